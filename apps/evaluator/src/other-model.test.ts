// squid-eval on a run of a model that is not SQUID. The test plug-in of @squid-ad/test-utils (one 3×3 convolution as
// its auto-encoder, Adam, score `test-error` = per-image mean squared reconstruction error) trains
// through the library like any model; evaluate, score, export, curve and compare then run on it
// through the CLI with the models list injected (CliDeps.models), as they do on a baseline's run.
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet, encodeGreyPng, loadImage } from '@squid-ad/datasets';
import { rocAuc } from '@squid-ad/metrics';
import { loadBundle, loadRun, parseRunConfig, readBundleDir, squidModel, trainRun } from '@squid-ad/squid';
import { redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { testModel } from '@squid-ad/test-utils/test-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportSummary } from './export-command.js';
import { runCli } from './program.js';
import { captured } from './test-run.js';

const models = [squidModel, testModel];
const withModels = () => captured({ models: async () => models });

const dir = mkdtempSync(join(tmpdir(), 'squid-eval-other-model-'));
const runDir = join(dir, 'run');
const imageDir = join(dir, 'images');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  const config = parseRunConfig(
    {
      model: 'test-ae',
      'test-ae': testModel.presetConfig('tiny'),
      run: {
        normImages: 4,
        sampleEvery: 100,
        keepEvery: 1,
        data: { trainLength: 4, valNormal: 3, valAbnormal: 3 },
      },
    },
    'test config',
    { models },
  );
  expect((await trainRun({ runDir, config, models })).status).toBe('completed');
  mkdirSync(imageDir);
  digitAnatomyTestSet({ seed: 5, normal: 3, abnormal: 3, cell: 16 }).forEach((s, i) => {
    writeFileSync(join(imageDir, `${i}.png`), encodeGreyPng({ width: 48, height: 48, data: s.image }));
  });
}, 300_000);

type ScoreLine = {
  path: string;
  score: number;
  scoreName: string;
  reconL1: number;
  reconL1WorstCell: number;
};

describe('squid-eval on a run of another model (a test-only plug-in)', () => {
  it('evaluate: report.json names the model and its score; the metrics use it', async () => {
    const ev = withModels();
    const code = await runCli(
      ['evaluate', '--run', runDir, '--test-size', '8+8', '--threshold-from', 'oracle', '--resamples', '50'],
      ev.deps,
    );
    expect(ev.err.filter((l) => !l.startsWith('backend '))).toEqual([]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(runDir, 'eval/report.json'), 'utf8'));
    expect(report.source).toMatchObject({ model: 'test-ae', score: 'test-error', checkpoint: 'best' });
    expect(Object.keys(report.scores)).toEqual(['test-error', 'recon-l1', 'recon-l1-worst-cell']);
    expect(report.scores['test-error']).toEqual({
      auc: report.metrics.auc,
      ci: report.ci.auc,
      perType: report.perType,
    });
    expect(report.perType.map((t: { type: string }) => t.type)).toEqual(['flip', 'missing', 'swap', 'zero']);
    expect(ev.out).toContainEqual(expect.stringMatching(/^AUC by score: test-error \d+\.\d · recon-l1 /));

    // The CSV's score column is the model's raw score (calibrated = raw for this plug-in), and
    // the metrics come from it: its AUC recomputed from the CSV is the report's.
    const rows = readFileSync(join(runDir, 'eval/scores.csv'), 'utf8').trim().split('\n').slice(1);
    const labels = rows.map((r) => Number(r.split(',')[1]));
    const scores = rows.map((r) => Number(r.split(',')[3]));
    expect(rows).toHaveLength(16);
    expect(rocAuc(labels, scores)).toBe(report.metrics.auc);
    for (const s of scores) expect(s).toBeGreaterThan(0);

    const html = readFileSync(join(runDir, 'eval/report.html'), 'utf8');
    expect(html).toContain('<title>Evaluation report: One-convolution test auto-encoder (this test)</title>');
    expect(html).toContain('its score <b>test-error</b>');
    expect(html).toContain('<th class="num">test-error score</th>');
  });

  it('score: JSON lines with the score name, each score the mean squared reconstruction error, equal to loadRun', async () => {
    const sc = withModels();
    expect(await runCli(['score', '--run', runDir, '--batch-size', '4', imageDir], sc.deps)).toBe(0);
    const lines = sc.out.map((l) => JSON.parse(l) as ScoreLine);
    expect(lines).toHaveLength(6);
    const run = await loadRun(runDir, { models });
    expect(run.model).toEqual({
      name: 'test-ae',
      title: 'One-convolution test auto-encoder (this test)',
      scoreName: 'test-error',
    });
    try {
      for (const line of lines) {
        expect(line.scoreName).toBe('test-error');
        const image = await loadImage(line.path, { size: 48 });
        const x = tf.tensor4d(image, [1, 48, 48, 1]);
        const s = await run.score(x);
        x.dispose();
        expect(line.score).toBe(s.scores[0]); // bit-identical, batches of 4 against one
        expect(line.reconL1).toBe(s.reconL1[0]);
        // the plug-in's own score, not SQUID's calibration: mean (recon − x)², by a plain loop
        let sq = 0;
        for (let i = 0; i < image.length; i++) sq += (s.recon[0][i] - image[i]) ** 2;
        expect(Math.abs(line.score - sq / image.length)).toBeLessThanOrEqual(1e-6 * (sq / image.length));
      }
    } finally {
      run.dispose();
    }
  });

  it('export: the bundle records the model, loads with the plug-in and scores bit for bit like the run', async () => {
    const out = join(dir, 'bundle');
    const ex = withModels();
    expect(await runCli(['export', '--run', runDir, '--out', out, '--json'], ex.deps)).toBe(0);
    const summary = JSON.parse(ex.out[0]) as ExportSummary;
    expect(summary).toMatchObject({ model: 'test-ae', precision: 'float32', checkpoint: 'best' });
    const sc = withModels();
    expect(await runCli(['score', '--run', runDir, imageDir], sc.deps)).toBe(0);
    const bundle = await loadBundle(readBundleDir(out), { models });
    try {
      expect(bundle.model.scoreName).toBe('test-error');
      expect(bundle.imageSize).toBe(48);
      for (const line of sc.out.map((l) => JSON.parse(l) as ScoreLine)) {
        const x = tf.tensor4d(await loadImage(line.path, { size: 48 }), [1, 48, 48, 1]);
        const s = await bundle.score(x);
        x.dispose();
        expect(s.scores[0]).toBe(line.score);
        expect(s.reconL1[0]).toBe(line.reconL1);
        expect(s.reconL1WorstCell[0]).toBe(line.reconL1WorstCell);
      }
    } finally {
      bundle.dispose();
    }
    // squid-eval's own models do not include the test plug-in: a clear error, no page served.
    const view = captured();
    expect(await runCli(['view', '--bundle', out], view.deps)).toBe(1);
    expect(view.err).toEqual([
      expect.stringMatching(
        new RegExp(
          `^squid-eval: ${join(out, 'bundle.json')}: a bundle of model test-ae; squid-eval knows squid`,
        ),
      ),
    ]);
  });

  it('without the plug-in, evaluate names the unknown model', async () => {
    const ev = captured();
    expect(await runCli(['evaluate', '--run', runDir, '--test-size', '2+2'], ev.deps)).toBe(1);
    expect(ev.err).toEqual([
      expect.stringMatching(/^squid-eval: .*config\.json: unknown model "test-ae"; this program knows squid/),
    ]);
  });

  it('curve: AUC of the model score per kept checkpoint; compare refuses to mix models', async () => {
    const cu = withModels();
    expect(await runCli(['curve', '--run', runDir, '--test-size', '4+4', '--resamples', '20'], cu.deps)).toBe(
      0,
    );
    const curve = JSON.parse(readFileSync(join(runDir, 'curve/curve.json'), 'utf8'));
    expect(curve).toMatchObject({ model: 'test-ae', score: 'test-error' });
    // the initial weights (epoch 0) and each epoch's
    expect(curve.points.map((p: { checkpoint: string }) => p.checkpoint)).toEqual([
      'epoch-0000',
      'epoch-0001',
      'epoch-0002',
    ]);
    expect(Object.keys(curve.points[1].scores)).toEqual(['test-error', 'recon-l1', 'recon-l1-worst-cell']);
    expect(readFileSync(join(runDir, 'curve/curve.csv'), 'utf8')).toMatch(
      /^checkpoint,epoch,iteration,loss_recon,test-error_auc,test-error_lower,test-error_upper,test-error_auc_flip/,
    );
    expect(readFileSync(join(runDir, 'curve/curve-types.svg'), 'utf8')).toContain(
      'test-error AUC per anomaly type',
    );

    const co = withModels();
    expect(await runCli(['compare', runDir], co.deps)).toBe(0);
    expect(co.out[0]).toMatch(/auc test-error\s+\d+\.\d ± /);
    expect(co.out[0]).toMatch(/\n1 runs of test-ae, std with ddof 1/);
    // a SQUID report (one without source.model counts as SQUID's) beside it: refused
    const squidRun = join(dir, 'squid-run');
    mkdirSync(join(squidRun, 'eval'), { recursive: true });
    const report = JSON.parse(readFileSync(join(runDir, 'eval/report.json'), 'utf8'));
    delete report.source.model;
    writeFileSync(join(squidRun, 'eval/report.json'), JSON.stringify(report));
    copyFileSync(join(runDir, 'eval/scores.csv'), join(squidRun, 'eval/scores.csv'));
    const mixed = withModels();
    expect(await runCli(['compare', runDir, squidRun], mixed.deps)).toBe(1);
    expect(mixed.err).toEqual([
      `squid-eval: compare: runs of different models (${runDir}: test-ae, ${squidRun}: squid); a mean over them means nothing: compare the runs of one model at a time`,
    ]);
  });

  const noRedis = redisUnavailable();
  it.skipIf(noRedis)(
    `score --queue, an in-process worker, collect: the rows of squid-eval score${noRedis ? ` (skipped: ${noRedis})` : ''}`,
    async () => {
      const redis = await startRedisServer();
      try {
        const local = withModels();
        expect(await runCli(['score', '--run', runDir, imageDir], local.deps)).toBe(0);
        const post = withModels();
        const args = ['score', '--queue', redis.url, '--run', runDir, '--chunk-size', '4', imageDir];
        expect(await runCli(args, post.deps), post.err.join('\n')).toBe(0);
        const worker = withModels();
        const workerArgs = ['worker', '--queue', redis.url, '--poll-seconds', '0.2', '--exit-when-idle'];
        expect(await runCli(workerArgs, worker.deps), worker.err.join('\n')).toBe(0);
        const collect = withModels();
        expect(await runCli(['collect', '--queue', redis.url], collect.deps), collect.err.join('\n')).toBe(0);
        const rows = collect.out.map((l) => JSON.parse(l) as ScoreLine);
        expect(rows.map((r) => r.scoreName)).toEqual(Array(6).fill('test-error'));
        expect(rows).toEqual(local.out.map((l) => JSON.parse(l)));
      } finally {
        await redis.stop();
      }
    },
    120_000,
  );
});

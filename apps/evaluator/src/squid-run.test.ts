// End to end with the real model: train a tiny SQUID run for a few iterations, then evaluate
// and score it through the CLI with the real @squid-ad/squid and @squid-ad/datasets.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyDataset, encodeGreyPng } from '@squid-ad/datasets';
import { getPreset, loadRun, parseRunConfig, trainRun } from '@squid-ad/squid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { captured } from './test-run.js';

const dir = mkdtempSync(join(tmpdir(), 'squid-eval-run-'));
const runDir = join(dir, 'run');
const dataDir = join(dir, 'data');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  const squid = getPreset('tiny'); // 48 px DigitAnatomy structure
  squid.train.epochs = 1;
  squid.train.iterationsPerEpoch = 1;
  squid.train.batchSize = 2;
  const config = parseRunConfig({ squid, run: { normImages: 2, sampleEvery: 100 } }, 'test config');
  const result = await trainRun({
    runDir,
    config,
    data: {
      train: digitAnatomyDataset({ split: 'train', cell: 16, length: 4 }),
      val: digitAnatomyDataset({ split: 'test', seed: 7001, cell: 16, normal: 2, abnormal: 2 }),
      augment: false,
    },
  });
  expect(result.status).toBe('completed');
  // A small test folder in the DIR/SPLIT/<class>/ layout, as PNG files.
  const test = digitAnatomyDataset({ split: 'test', seed: 0, cell: 16, normal: 4, abnormal: 4 });
  for (let i = 0; i < test.length; i++) {
    const item = test.items[i];
    const sample = await test.sample(i);
    const folder = join(dataDir, 'test', item.label ? (item.type ?? 'abnormal') : 'normal');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, `${i}.png`), encodeGreyPng({ width: 48, height: 48, data: sample!.image }));
  }
}, 300_000);

describe('squid-eval on a real (tiny) SQUID run', () => {
  it('evaluate writes a report; score gives the same score alone, in batches and in evaluate', async () => {
    const ev = captured();
    const code = await runCli(
      [
        'evaluate',
        '--run',
        runDir,
        '--data',
        dataDir,
        // an untrained model's validation threshold may be +∞ (not stored): use the oracle here
        '--threshold-from',
        'oracle',
        '--resamples',
        '50',
        '--batch-size',
        '3',
        '--grid',
        '2',
      ],
      ev.deps,
    );
    // Only the backend status line on stderr, and the same facts in report.json.
    expect(ev.err).toEqual([expect.stringMatching(/^backend cpu(, oneDNN kernels on)?/)]);
    expect(code).toBe(0);
    const report = JSON.parse(readFileSync(join(runDir, 'eval/report.json'), 'utf8'));
    expect(report.source.backend).toMatchObject({ backend: 'cpu', threads: 1 });
    expect(ev.err[0].includes('oneDNN kernels on')).toBe(report.source.backend.nativeKernels.enabled);
    expect(report.counts).toEqual({ total: 8, normal: 4, anomalous: 4 });
    expect(report.threshold.source).toBe('oracle');
    expect(report.perType.map((t: { type: string }) => t.type)).toEqual(['flip', 'missing', 'swap', 'zero']);
    expect(Object.keys(report.scores)).toEqual(['discriminator', 'recon-l1', 'recon-l1-worst-cell']);
    expect(report.scores.discriminator.auc).toBe(report.metrics.auc);
    const rows = readFileSync(join(runDir, 'eval/scores.csv'), 'utf8').trim().split('\n').slice(1);
    const fromEval = new Map(rows.map((r) => [r.split(',')[0], Number(r.split(',')[3])]));
    const errorsFromEval = new Map(rows.map((r) => [r.split(',')[0], r.split(',').slice(5).map(Number)]));
    for (const s of fromEval.values()) {
      expect(s).toBeGreaterThanOrEqual(0);
      expect(s).toBeLessThanOrEqual(1);
    }

    // Tensors that loading and disposing a run leaves by itself (owned by @squid-ad/squid): the
    // CLI must leak nothing beyond that.
    let before = tf.memory().numTensors;
    (await loadRun(runDir)).dispose();
    const perLoad = tf.memory().numTensors - before;
    before = tf.memory().numTensors;
    writeFileSync(join(dataDir, 'test', 'normal', 'broken.png'), 'not a png at all');
    const batch = captured();
    expect(
      await runCli(['score', '--run', runDir, '--batch-size', '5', join(dataDir, 'test')], batch.deps),
    ).toBe(2);
    expect(batch.err).toHaveLength(2);
    expect(batch.err[0]).toMatch(/^backend cpu/);
    expect(batch.err[1]).toContain(join(dataDir, 'test', 'normal', 'broken.png'));
    const lines = batch.out.map((l) => JSON.parse(l));
    expect(lines).toHaveLength(8);
    for (const l of lines) {
      expect(l.score).toBe(fromEval.get(l.path)); // bit-identical to evaluate (batches of 3)
      expect([l.reconL1, l.reconL1WorstCell]).toEqual(errorsFromEval.get(l.path));
      expect(l.reconL1).toBeGreaterThan(0);
    }
    const alone = captured();
    await runCli(['score', '--run', runDir, lines[5].path], alone.deps);
    expect(JSON.parse(alone.out[0]).score).toBe(lines[5].score);
    expect(tf.memory().numTensors - before).toBe(2 * perLoad);
  });
});

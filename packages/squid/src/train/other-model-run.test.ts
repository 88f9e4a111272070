// The run loop with a model that is not SQUID: the run config names it, resume is exact (its
// trainer's Rng draws and optimiser state included), and loadRun scores with its own score.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { testModel } from '@squid-ad/test-utils/test-model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint.js';
import { loadRun } from '../load-run.js';
import { readMetrics, runPaths } from '../run-folder.js';
import { squidModel } from '../squid-plugin.js';
import { configDifferences, parseRunConfig, type RunConfig } from './run-config.js';
import { type CheckpointMeta, type EpochMetrics, trainRun } from './train-run.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const root = mkdtempSync(join(tmpdir(), 'squid-other-model-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const models = [squidModel, testModel];

/** A tiny test-ae run: 8 training images, 2 + 2 validation images, `epochs` × 2 iterations. */
function config(epochs: number): RunConfig {
  const ae = testModel.presetConfig('tiny');
  ae.train.epochs = epochs;
  return parseRunConfig(
    {
      model: 'test-ae',
      'test-ae': ae,
      run: { normImages: 2, sampleEvery: 1000, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } },
    },
    'test',
    { models },
  );
}

describe('run config of a plug-in model', () => {
  it('is checked by the plug-in named in it, and unknown models and keys are refused', () => {
    const c = config(3);
    expect(c.model).toBe('test-ae');
    expect(c['test-ae']).toMatchObject({ preset: 'tiny', imageSize: 48, train: { epochs: 3, batchSize: 2 } });
    expect(() => parseRunConfig({ model: 'nope' }, 'cfg.json', { models })).toThrow(
      'cfg.json: unknown model "nope"; this program knows squid, test-ae',
    );
    // Without `models`, only SQUID is known: a baseline run needs the plug-in passed in.
    expect(() => parseRunConfig(c, 'cfg.json')).toThrow(/unknown model "test-ae"; this program knows squid$/);
    expect(() =>
      parseRunConfig({ ...c, 'test-ae': { ...(c['test-ae'] as object), trian: {} } }, 'cfg.json', { models }),
    ).toThrow(/test-ae\.trian: unknown key \(did you mean train\?\)/);
    // A SQUID config.json from before plug-ins (no `model`) is SQUID's.
    expect(parseRunConfig({ squid: { preset: 'tiny' } }, 'old.json').model).toBe('squid');
  });

  it('changes what resume compares: the model epochs are free, anything else is a difference', () => {
    const a = config(2);
    expect(configDifferences(a, config(5))).toEqual([]);
    expect(configDifferences(a, { ...a, run: { ...a.run, sampleEvery: 1, keepEvery: 3 } })).toEqual([]);
    const b = config(2);
    (b['test-ae'] as { train: { seed: number } }).train.seed = 9;
    expect(configDifferences(a, b)).toEqual(['test-ae.train.seed: 0 → 9']);
  });
});

describe('trainRun with a plug-in model', () => {
  it('lengthens a run on resume unless the model planned its schedule from the length (--force overrides)', async () => {
    const planned = { ...testModel, fixedLength: () => 'its schedule is planned from the total' };
    const dir = join(root, 'fixed-length');
    await trainRun({ runDir: dir, config: config(1), models: [planned] });
    await expect(
      trainRun({ runDir: dir, config: config(2), resume: true, models: [planned] }),
    ).rejects.toThrow(
      `cannot resume ${dir} for 2 epochs: it was started for 1, and test-ae cannot change a run's length (its schedule is planned from the total); resume it with --epochs 1, or train a new run with --epochs 2`,
    );
    // The same length resumes (nothing left to train); so does a longer one with --force, or
    // without the rule (testModel itself).
    expect((await trainRun({ runDir: dir, config: config(1), resume: true, models: [planned] })).status).toBe(
      'completed',
    );
    const forced = await trainRun({
      runDir: dir,
      config: config(2),
      resume: true,
      force: true,
      models: [planned],
    });
    expect(forced).toMatchObject({ status: 'completed', iteration: 4 });
    expect((await trainRun({ runDir: dir, config: config(3), resume: true, models })).status).toBe(
      'completed',
    );
    expect((readMetrics(dir) as unknown as EpochMetrics[]).map((r) => r.iteration)).toEqual([2, 4, 6]);
  });

  it('resumes exactly, logs its losses by name, and loadRun scores with its own score', async () => {
    const before = tf.memory().numTensors;
    const straight = join(root, 'straight');
    const split = join(root, 'split');
    expect((await trainRun({ runDir: straight, config: config(4), models })).status).toBe('completed');
    await trainRun({ runDir: split, config: config(2), models });
    // Resuming needs the plug-in too: without it the run folder's config.json names an unknown model.
    await expect(trainRun({ runDir: split, config: config(4), resume: true })).rejects.toThrow(
      /unknown model "test-ae"/,
    );
    expect((await trainRun({ runDir: split, config: config(4), resume: true, models })).status).toBe(
      'completed',
    );
    expect(tf.memory().numTensors).toBe(before);

    const A = readCheckpoint<CheckpointMeta>(runPaths(straight).checkpoint('last'));
    const B = readCheckpoint<CheckpointMeta>(runPaths(split).checkpoint('last'));
    // The model's state and the optimiser's, under the names the plug-in gives them.
    expect([...A.tensors.keys()].sort()).toEqual(
      ['conv.weight', 'conv.bias', 'optimizer.step']
        .concat(
          ['exp_avg', 'exp_avg_sq'].flatMap((m) => [
            `optimizer.${m}.conv.weight`,
            `optimizer.${m}.conv.bias`,
          ]),
        )
        .sort(),
    );
    expect(B.meta.rng).toEqual(A.meta.rng);
    for (const [name, t] of A.tensors)
      expect(Array.from(B.tensors.get(name)!.data), name).toEqual(Array.from(t.data));
    const rows = readMetrics(split) as unknown as EpochMetrics[];
    expect(rows.map((r) => r.iteration)).toEqual([2, 4, 6, 8]);
    expect(rows.map((r) => r.loss.recon)).toEqual(
      (readMetrics(straight) as unknown as EpochMetrics[]).map((r) => r.loss.recon),
    );
    expect(Object.keys(rows[0].loss)).toEqual(['recon']);
    expect(rows[3].val?.scores && Object.keys(rows[3].val.scores)).toEqual([
      'test-error',
      'recon-l1',
      'recon-l1-worst-cell',
    ]);
    expect(readFileSync(runPaths(split).log, 'utf8')).toMatch(/new run .*: model test-ae, preset tiny/);

    const run = await loadRun(split, { models });
    expect(run.model).toEqual({ name: 'test-ae', title: testModel.title, scoreName: 'test-error' });
    const x = tf.randomUniform([3, 48, 48, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const out = await run.score(x);
    // No calibration: the score is the raw mean squared error of the clipped reconstruction.
    expect(Array.from(out.scores)).toEqual(Array.from(out.raw));
    const input = x.dataSync();
    for (let i = 0; i < 3; i++) {
      let sum = 0;
      for (let p = 0; p < 48 * 48; p++) sum += (out.recon[i][p] - input[i * 48 * 48 + p]) ** 2;
      expect(out.scores[i]).toBeCloseTo(sum / (48 * 48), 6);
    }
    x.dispose();
    run.dispose();
  });
});

import { digitAnatomyDataset, loadImage } from '@squid-ad/datasets';
import { describe, expect, it } from 'vitest';
import type { ScoringRun } from './deps.js';
import { type DatasetLoaders, DIGIT_ANATOMY_TEST_SEED, runSplitOpener } from './run-split.js';

const runWith = (data: ScoringRun['data']): ScoringRun => ({
  config: { imageSize: 48 },
  data,
  score: async () => ({
    scores: new Float32Array(),
    recon: [],
    reconL1: new Float32Array(),
    reconL1WorstCell: new Float32Array(),
  }),
  dispose: () => {},
});

function recordingLoaders(): DatasetLoaders & { calls: unknown[][] } {
  const calls: unknown[][] = [];
  const ds = {
    items: [{ path: 'p', label: 0 as const }],
    sample: async () => ({ image: new Float32Array(4) }),
  };
  return {
    calls,
    loadImage: async () => new Float32Array(4),
    digitAnatomyDataset: (o) => {
      calls.push(['digitanatomy', o]);
      return ds;
    },
    zhangLabDataset: async (root, o) => {
      calls.push(['zhanglab', root, o]);
      return ds;
    },
    cheXpertDataset: async (root, o) => {
      calls.push(['chexpert', root, o]);
      return ds;
    },
  };
}

describe('runSplitOpener', () => {
  it("opens a run's own data: DigitAnatomy test from the fixed seed, val from the run's val settings", async () => {
    const l = recordingLoaders();
    const open = runSplitOpener(l);
    const run = runWith({
      dataset: 'digitanatomy',
      dir: null,
      seed: 3,
      val: { valSeed: 7001, valNormal: 10, valAbnormal: 12 },
    });
    await open({ run, runDir: 'r', split: 'test', size: 48 });
    await open({ run, runDir: 'r', split: 'val', size: 48 });
    expect(l.calls).toEqual([
      ['digitanatomy', { split: 'test', seed: DIGIT_ANATOMY_TEST_SEED, cell: 16 }],
      ['digitanatomy', { split: 'test', seed: 7001, cell: 16, normal: 10, abnormal: 12 }],
    ]);
    await expect(open({ run, runDir: 'r', split: 'train', size: 48 })).rejects.toThrow(/splits test and val/);
  });

  it('opens ZhangLab from --data or the run folder, with the run hold-out as val', async () => {
    const l = recordingLoaders();
    const open = runSplitOpener(l);
    const run = runWith({
      dataset: 'zhanglab',
      dir: '/data/zl',
      seed: 5,
      val: { holdoutNormal: 100, holdoutAbnormal: 50 },
    });
    await open({ run, runDir: 'r', split: 'test', size: 128 });
    await open({ run, runDir: 'r', dataDir: '/elsewhere', split: 'val', size: 128 });
    expect(l.calls).toEqual([
      ['zhanglab', '/data/zl', { split: 'test', imageSize: 128, seed: 5 }],
      [
        'zhanglab',
        '/elsewhere',
        { split: 'val', imageSize: 128, seed: 5, holdout: { normal: 100, abnormal: 50 } },
      ],
    ]);
    const noDir = runWith({ dataset: 'chexpert', dir: null, seed: 0 });
    await expect(open({ run: noDir, runDir: 'r', split: 'test', size: 128 })).rejects.toThrow(
      /pass --data DIR/,
    );
  });

  it('loads real DigitAnatomy test images through @squid-ad/datasets', async () => {
    const open = runSplitOpener({
      loadImage,
      digitAnatomyDataset: (o) => digitAnatomyDataset({ ...o, normal: 2, abnormal: 4 }),
      zhangLabDataset: async () => {
        throw new Error('unused');
      },
      cheXpertDataset: async () => {
        throw new Error('unused');
      },
    });
    const split = await open({
      run: runWith({ dataset: 'digitanatomy', dir: null, seed: 0 }),
      runDir: 'r',
      split: 'test',
      size: 48,
    });
    expect(split.items.map((it) => it.label)).toEqual([0, 0, 1, 1, 1, 1]);
    expect(split.items.slice(2).map((it) => it.type)).toEqual(['missing', 'swap', 'flip', 'zero']);
    const img = await split.load(3);
    expect(img.length).toBe(48 * 48);
    const max = img.reduce((a, b) => Math.max(a, b), 0);
    expect(max).toBeGreaterThan(0.5); // digits are drawn
    expect(max).toBeLessThanOrEqual(1);
  });
});

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { readCheckpoint } from '../checkpoint.js';
import { getPreset } from '../presets.js';
import { runPaths } from '../run-folder.js';
import { parseRunConfig } from './run-config.js';
import { tinyRunConfig } from './test-config.fixture.js';
import { trainRun } from './train-run.js';
import { trainingData } from './training-data.js';

type Augmentation = ReturnType<typeof getPreset>['data']['augmentation'];

/** The first training image of the tiny preset with the given augmentation. */
async function firstImage(augmentation: Augmentation): Promise<Float32Array> {
  const squid = getPreset('tiny');
  squid.data.augmentation = augmentation;
  const { train } = await trainingData(parseRunConfig({ squid, run: { data: { valNormal: 0 } } }, 'test'));
  for await (const b of train.batches({ batchSize: 1, epochs: 1, seed: 4, shuffle: false })) {
    const image = new Float32Array(b.images.dataSync());
    b.images.dispose();
    return image;
  }
  throw new Error('no batch');
}

describe('trainingData (DigitAnatomy)', () => {
  it('draws the official epoch of 1,600 images, without validation when asked', async () => {
    const squid = getPreset('tiny');
    const data = await trainingData(parseRunConfig({ squid, run: { data: { valNormal: 0 } } }, 'test'));
    expect(data.train.length).toBe(1600);
    expect(data.train.imageSize).toBe(48);
    expect(data.val).toBeNull();
    expect(data.augment).toBe(false);
  });

  it('passes the crop scale to the generator; other kinds give whole-digit cells', async () => {
    const crop = await firstImage({ kind: 'random-resized-crop', scale: [0.6, 1.3] });
    const whole = await firstImage({ kind: 'random-resized-crop', scale: [1, 1] });
    expect(Array.from(crop)).not.toEqual(Array.from(whole));
    expect(Array.from(await firstImage({ kind: 'none' }))).toEqual(Array.from(whole));
  });
});

describe('trainingData (DigitAnatomy contamination)', () => {
  const contaminated = (contamination: number, trainLength = 1600) => {
    const squid = getPreset('tiny');
    squid.train.seed = 3;
    return parseRunConfig({ squid, run: { data: { valNormal: 0, contamination, trainLength } } }, 'test');
  };

  it('mixes generated abnormal images of the four types into the training items, by the seed', async () => {
    const { train } = await trainingData(contaminated(0.3));
    const abnormal = train.items.filter((i) => i.label === 1);
    // Binomial(1600, 0.3): mean 480, sd 18.3; 4 sd either side.
    expect(Math.abs(abnormal.length - 480)).toBeLessThan(4 * 18.4);
    expect(new Set(abnormal.map((i) => i.type))).toEqual(new Set(['missing', 'swap', 'flip', 'zero']));
    const { train: clean } = await trainingData(contaminated(0));
    expect(clean.items.every((i) => i.label === 0)).toBe(true);
  });

  it('a contaminated tiny run trains, and learns other weights than the clean run', async () => {
    await initBackend({ backend: 'wasm' });
    const root = mkdtempSync(join(tmpdir(), 'squid-contaminated-'));
    try {
      const weights = async (name: string, contamination: number) => {
        const config = tinyRunConfig({ epochs: 1, iterations: 2, validateEvery: 2 });
        config.run.data.contamination = contamination;
        const runDir = join(root, name);
        const result = await trainRun({ runDir, config });
        expect(result).toMatchObject({ status: 'completed', iteration: 2 });
        const log = readFileSync(runPaths(runDir).log, 'utf8');
        expect(log.includes('8 training images per data epoch (3 abnormal: contamination 0.5)')).toBe(
          contamination === 0.5,
        );
        const { tensors } = readCheckpoint(runPaths(runDir).checkpoint('last'));
        return tensors;
      };
      // trainLength 8, seed 3: 0.5 makes 3 of the 8 items abnormal.
      const config = tinyRunConfig({ epochs: 1 });
      config.run.data.contamination = 0.5;
      const items = (await trainingData(config)).train.items;
      expect(items.map((i) => i.label)).toEqual([0, 1, 0, 1, 0, 0, 1, 0]);
      const dirty = await weights('dirty', 0.5);
      const clean = await weights('clean', 0);
      const w = [...clean.keys()].find((n) => n.startsWith('generator.') && n.endsWith('weight'))!;
      expect(dirty.get(w)!.data.every((v) => Number.isFinite(v))).toBe(true);
      expect(Array.from(dirty.get(w)!.data)).not.toEqual(Array.from(clean.get(w)!.data));
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  }, 120_000);
});

import { describe, expect, it } from 'vitest';
import { getPreset } from '../presets.js';
import { parseRunConfig } from './run-config.js';
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

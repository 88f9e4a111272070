import { initBackend, tf } from '@squid-ad/backend';
import { mse } from '@squid-ad/gan-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { perImageMse } from './recon-error.js';
import { fromTanhRange, toTanhRange } from './tanh-range.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('AE reconstruction error', () => {
  it('scores each image by its own mean squared error, by hand on 2×2 images', () => {
    // image 0: errors 0.5, 0, 0, 0.25 → (0.25 + 0.0625) / 4 = 0.078125
    // image 1: errors 1 everywhere → 1
    const a = tf.tensor4d([1, 0, 0.5, 0.25, 0, 0, 0, 0], [2, 2, 2, 1]);
    const b = tf.tensor4d([0.5, 0, 0.5, 0, 1, 1, 1, 1], [2, 2, 2, 1]);
    expect(Array.from(perImageMse(a, b).dataSync())).toEqual([0.078125, 1]);
    // The training loss: the mean over the whole batch (PyTorch MSELoss), (0.078125 + 1) / 2.
    expect(mse(a, b).dataSync()[0]).toBeCloseTo(0.5390625, 7);
  });

  it('maps [0, 1] to [−1, 1] and back; squared errors grow by 4 in tanh units', () => {
    const x = tf.tensor4d([0, 0.25, 0.5, 1], [1, 2, 2, 1]);
    expect(Array.from(toTanhRange(x).dataSync())).toEqual([-1, -0.5, 0, 1]);
    expect(Array.from(fromTanhRange(toTanhRange(x)).dataSync())).toEqual([0, 0.25, 0.5, 1]);
    const y = tf.tensor4d([0.5, 0.25, 0.5, 0], [1, 2, 2, 1]);
    // [0, 1]: (0.25 + 1) / 4 = 0.3125; [−1, 1]: 4× that.
    expect(perImageMse(x, y).dataSync()[0]).toBe(0.3125);
    expect(perImageMse(toTanhRange(x), toTanhRange(y)).dataSync()[0]).toBe(1.25);
  });
});

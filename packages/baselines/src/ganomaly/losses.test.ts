import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  contextualLoss,
  discriminatorLoss,
  encoderLoss,
  featureMatchingLoss,
  latentDistance,
} from './losses.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const value = (f: () => tf.Tensor) => tf.tidy(() => Array.from(f().dataSync()));

describe('GANomaly losses, by hand', () => {
  it('L_adv: mean squared feature difference', () => {
    // differences 1, 0, −2, 3 → squares 1, 0, 4, 9 → mean 3.5
    expect(
      value(() =>
        featureMatchingLoss(tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]), tf.tensor4d([0, 2, 5, 1], [1, 2, 2, 1])),
      ),
    ).toEqual([3.5]);
  });

  it('L_con: mean absolute difference', () => {
    // |diffs| 0.5, 0.5, 0, 2 → mean 0.75
    expect(
      value(() =>
        contextualLoss(
          tf.tensor4d([0, -1, 0.5, 1], [1, 2, 2, 1]),
          tf.tensor4d([0.5, -0.5, 0.5, -1], [1, 2, 2, 1]),
        ),
      ),
    ).toEqual([0.75]);
  });

  it('L_enc: mean squared latent difference over batch and nz', () => {
    // (0 + 4 + 9 + 1 + 1 + 1) / 6
    const z = tf.tensor4d([1, 2, 3, 0, 0, 0], [2, 1, 1, 3]);
    const zHat = tf.tensor4d([1, 0, 0, 1, 1, 1], [2, 1, 1, 3]);
    expect(value(() => encoderLoss(z, zHat))[0]).toBeCloseTo(16 / 6, 6);
    tf.dispose([z, zHat]);
  });

  it('L_D: ½ [BCE(σ(real), 1) + BCE(σ(fake), 0)]', () => {
    const sigmoid = (x: number) => 1 / (1 + Math.exp(-x));
    const real = [0, 2];
    const fake = [-1, 3];
    const bceReal = real.reduce((s, x) => s - Math.log(sigmoid(x)), 0) / real.length;
    const bceFake = fake.reduce((s, x) => s - Math.log(1 - sigmoid(x)), 0) / fake.length;
    // (log 2 + log(1 + e^−2)) / 2 and (log(1 + e^−1) + log(1 + e^3)) / 2
    expect(bceReal).toBeCloseTo((Math.LN2 + Math.log1p(Math.exp(-2))) / 2, 12);
    expect(value(() => discriminatorLoss(tf.tensor1d(real), tf.tensor1d(fake)))[0]).toBeCloseTo(
      0.5 * (bceReal + bceFake),
      6,
    );
  });

  it('score: mean over nz of (z − ẑ)² per image', () => {
    const z = tf.tensor4d([1, 2, 3, 0, 0, 0], [2, 1, 1, 3]);
    const zHat = tf.tensor4d([1, 0, 0, 1, 1, 1], [2, 1, 1, 3]);
    const s = value(() => latentDistance(z, zHat));
    expect(s[0]).toBeCloseTo(13 / 3, 6);
    expect(s[1]).toBe(1);
    tf.dispose([z, zHat]);
  });
});

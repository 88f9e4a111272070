import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { meanAbsError, residualNormScore } from './residual-score.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('MemAE scores', () => {
  it("Gong et al.: mean over pixels of the residual's norm across channels, by hand", () => {
    // One 1×2 image, 2 channels: residuals (3, 4) → 5 and (0, −1) → 1; mean 3.
    const x = tf.zeros([1, 1, 2, 2]) as tf.Tensor4D;
    const r = tf.tensor4d([3, 4, 0, -1], [1, 1, 2, 2]);
    expect(Array.from(residualNormScore(r, x).dataSync())).toEqual([3]);
  });

  it('one channel: the mean |x̂ − x|, per image, in the units given (×2 in [−1, 1])', () => {
    // Image 0: |0.5 − 0|, |0 − 0.25|, 0, |1 − 0.5| → 1.25/4; image 1: 0.1 everywhere.
    const recon = tf.tensor4d([0.5, 0, 0.5, 1, 0.1, 0.1, 0.1, 0.1], [2, 2, 2, 1]);
    const x = tf.tensor4d([0, 0.25, 0.5, 0.5, 0, 0, 0, 0], [2, 2, 2, 1]);
    const gong = residualNormScore(recon, x).dataSync();
    expect(gong[0]).toBeCloseTo(0.3125, 6);
    expect(gong[1]).toBeCloseTo(0.1, 6);
    // The SQUID authors' score: mean of √((x̂ − x)²) over pixels, the same on one channel.
    const squid = meanAbsError(recon, x).dataSync();
    expect(squid[0]).toBeCloseTo(0.3125, 6);
    expect(squid[1]).toBeCloseTo(0.1, 6);
    // In [−1, 1] units (2x − 1 on both) the residual doubles.
    const signed = (t: tf.Tensor4D) => tf.sub(tf.mul(t, 2), 1) as tf.Tensor4D;
    expect(residualNormScore(signed(recon), signed(x)).dataSync()[0]).toBeCloseTo(0.625, 6);
  });
});

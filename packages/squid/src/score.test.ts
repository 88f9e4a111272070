import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { clippingModel } from './clipping-model.fixture.js';
import { anomalyScores, discriminate, normStats } from './score.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('score normalisation', () => {
  it('μ and σ are the mean and population std of the logits', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2.
    expect(normStats([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mu: 5, sigma: 2, count: 8 });
    expect(normStats([1, 1]).sigma).toBe(1e-8);
    expect(() => normStats([])).toThrow(/no logits/);
  });

  it('A = 1 − sigmoid((d − μ)/σ): below-normal logits score as anomalous', () => {
    const s = anomalyScores([5, 7, 3, 5 + 2 * 50], { mu: 5, sigma: 2 });
    expect(s[0]).toBeCloseTo(0.5, 7);
    expect(s[1]).toBeCloseTo(1 - 1 / (1 + Math.exp(-1)), 7);
    expect(s[2]).toBeCloseTo(1 - 1 / (1 + Math.exp(1)), 7);
    // Far above normal: tiny but positive (no cancellation to 0).
    expect(s[3]).toBeGreaterThan(0);
    expect(s[3]).toBeCloseTo(Math.exp(-50), 25);
  });
});

describe('discriminate', () => {
  it('returns the logits, reconstructions and their errors from one forward', () => {
    // 64 px: image 0 has an 8×8 block of 1 at x 0..7, y 40..47 (cell row 1, column 0 of the
    // 2×2 grid of 32-px cells), reconstructed as 0.5: 64 pixels of error 0.5. Image 1 is a flat
    // 0.3, reconstructed exactly.
    const S = 64;
    const data = new Float32Array(2 * S * S);
    for (let y = 40; y < 48; y++) for (let x = 0; x < 8; x++) data[y * S + x] = 1;
    data.fill(0.3, S * S);
    data[0] = 0.25; // logit of image 0
    const images = tf.tensor4d(data, [2, S, S, 1]);
    const before = tf.memory().numTensors;
    const d = discriminate(clippingModel, images, 'per-image');
    expect(tf.memory().numTensors).toBe(before);
    expect(Array.from(d.logits)).toEqual([0.25, Math.fround(0.3)]);
    expect(d.recon[0][40 * S]).toBe(0.5);
    expect(Array.from(d.reconL1)).toEqual([32 / (S * S), 0]);
    expect(Array.from(d.reconL1WorstCell)).toEqual([32 / (32 * 32), 0]);
    // 16-px cells: the block is a quarter of one cell
    expect(
      Array.from(discriminate(clippingModel, images, 'per-image', { reconCell: 16 }).reconL1WorstCell),
    ).toEqual([32 / (16 * 16), 0]);
    images.dispose();
  });
});

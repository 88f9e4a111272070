import { initBackend, Rng, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet } from '@squid-ad/datasets';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { clippingModel } from './clipping-model.fixture.js';
import { createSquidModel } from './model.js';
import { presets } from './presets.js';
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

/** Positions where two float32 arrays differ in their bits (NaN payloads and −0 included). */
function bitDifferences(a: Float32Array, b: Float32Array): number[] {
  expect(a.length).toBe(b.length);
  const x = new Uint32Array(a.buffer, a.byteOffset, a.length);
  const y = new Uint32Array(b.buffer, b.byteOffset, b.length);
  const at: number[] = [];
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) at.push(i);
  return at;
}

// The batch in one forward must give each image the numbers of its own forward, bit for bit, on
// every backend the CLIs use. What broke it before: the eval BatchNorm folding chosen by batch
// size, and wasm matMuls routed by row count (the stock loop and XNNPACK round differently).
// Six different images: more rows than the old few-rows route took.
describe.each(BACKEND_VARIANTS)(
  'batched discriminate on $backend (native kernels: $nativeKernels)',
  ({ backend, nativeKernels }) => {
    // Why this variant cannot run here (the oneDNN kernels are optional), or undefined.
    let unavailable: string | undefined;

    beforeAll(async () => {
      unavailable = await startVariant({ backend, nativeKernels });
    });

    it('equals one image per forward bit for bit', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const model = createSquidModel(structuredClone(presets.tiny), Rng.fromSeed(3));
      const set = digitAnatomyTestSet({ seed: 11, normal: 3, abnormal: 3, cell: 16 });
      const S = presets.tiny.model.imageSize;
      const images = tf.tensor4d(Float32Array.from(set.flatMap((s) => Array.from(s.image))), [6, S, S, 1]);
      const before = tf.memory().numTensors;
      const batched = discriminate(model, images, 'per-image');
      const alone = discriminate(model, images, 'per-image', { perImage: true });
      expect(tf.memory().numTensors).toBe(before);
      const problems: string[] = [];
      const check = (name: string, a: Float32Array, b: Float32Array) => {
        const at = bitDifferences(a, b);
        if (at.length > 0) problems.push(`${name}: ${at.length}/${a.length} differ, first at ${at[0]}`);
      };
      for (const key of ['logits', 'reconL1', 'reconL1WorstCell'] as const)
        check(key, batched[key], alone[key]);
      for (const [i, r] of batched.recon.entries()) check(`recon[${i}]`, r, alone.recon[i]);
      expect(problems).toEqual([]);
      // Different images, different numbers: the comparison is not between constants.
      expect(new Set(batched.logits).size).toBe(6);
      expect(batched.recon.length).toBe(6);
      expect(batched.logits.every(Number.isFinite)).toBe(true);
      images.dispose();
      model.dispose();
    });
  },
);

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { bernoulliMask, maskedMix } from './bernoulli-mask.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('bernoulliMask', () => {
  for (const p of [0.95, 0.3]) {
    it(`draws ones at rate ${p} within 4 binomial standard deviations`, () => {
      const shape = [64, 32, 32, 1];
      const n = 64 * 32 * 32;
      const ones = bernoulliMask(shape, p, Rng.fromSeed(21)).sum().dataSync()[0];
      const sd = Math.sqrt(n * p * (1 - p));
      expect(Math.abs(ones - n * p)).toBeLessThan(4 * sd);
    });
  }

  it('is reproducible by seed and differs across seeds; only 0/1 values', () => {
    const a = bernoulliMask([8, 16], 0.5, Rng.fromSeed(3)).dataSync();
    const b = bernoulliMask([8, 16], 0.5, Rng.fromSeed(3)).dataSync();
    const c = bernoulliMask([8, 16], 0.5, Rng.fromSeed(4)).dataSync();
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(Array.from(c)).not.toEqual(Array.from(a));
    expect(new Set(a)).toEqual(new Set([0, 1]));
    expect(() => bernoulliMask([2], 1.5, Rng.fromSeed(1))).toThrow(/\[0, 1\]/);
  });
});

describe('maskedMix', () => {
  const out = tf.randomNormal([4, 6, 6, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  const input = tf.randomNormal([4, 6, 6, 3], 5, 1, 'float32', 2) as tf.Tensor4D;

  it('takes the output with ratio 1 and the input with ratio 0', () => {
    expect(maskedMix(out, input, 1, Rng.fromSeed(1)).arraySync()).toEqual(out.arraySync());
    expect(maskedMix(out, input, 0, Rng.fromSeed(1)).arraySync()).toEqual(input.arraySync());
  });

  it('chooses per spatial location, the same for every channel', () => {
    const mixed = maskedMix(out, input, 0.5, Rng.fromSeed(7)).arraySync();
    const o = out.arraySync();
    const x = input.arraySync();
    let fromInput = 0;
    for (let b = 0; b < 4; b++) {
      for (let i = 0; i < 6; i++) {
        for (let j = 0; j < 6; j++) {
          const takesOut = mixed[b][i][j].every((v, c) => v === o[b][i][j][c]);
          const takesIn = mixed[b][i][j].every((v, c) => v === x[b][i][j][c]);
          expect(takesOut !== takesIn).toBe(true);
          if (takesIn) fromInput++;
        }
      }
    }
    // 144 locations at p = 0.5: 72 ± 6, allow 4 sd.
    expect(Math.abs(fromInput - 72)).toBeLessThan(24);
  });

  it('takes a given mask source instead of drawing (one call, shape [B, H, W, 1]), and checks its shape', () => {
    const shapes: number[][] = [];
    const keepTopLeft = (shape: [number, number, number, 1]) => {
      shapes.push(shape);
      return tf
        .buffer(
          shape,
          'float32',
          new Float32Array(shape[0] * shape[1] * shape[2]).map((_, i) => (i % 36 === 0 ? 1 : 0)),
        )
        .toTensor();
    };
    const mixed = maskedMix(out, input, 1, Rng.fromSeed(1), keepTopLeft).arraySync();
    expect(shapes).toEqual([[4, 6, 6, 1]]);
    const o = out.arraySync();
    const x = input.arraySync();
    for (let b = 0; b < 4; b++) {
      expect(mixed[b][0][0]).toEqual(o[b][0][0]);
      expect(mixed[b][2][3]).toEqual(x[b][2][3]);
    }
    expect(() => maskedMix(out, input, 1, Rng.fromSeed(1), () => tf.ones([4, 6, 6, 3]))).toThrow(
      /mask source gave \[4,6,6,3\], expected \[4,6,6,1\]/,
    );
  });
});

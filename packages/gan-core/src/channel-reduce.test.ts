import { initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { channelSum } from './channel-reduce.js';

afterAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Per-channel sums in float64 of an `[m, C]` row-major array. */
function reference(values: Float32Array, c: number): number[] {
  const sums = new Array<number>(c).fill(0);
  for (let i = 0; i < values.length; i++) sums[i % c] += values[i];
  return sums;
}

describe('channelSum', () => {
  // Row counts that take each path: a single window (32 rows), many 512-row windows
  // (4·32·32), windows of 16 (48 = 16·3), and the plain product (105 odd; 1000 = 8·125).
  const shapes: number[][] = [
    [2, 4, 4, 3],
    [4, 32, 32, 8],
    [3, 4, 4, 5],
    [3, 5, 7, 4],
    [1000, 6],
  ];

  it.for(['cpu', 'wasm'])('%s: equals the float64 sum for every row count', async (backend) => {
    await initBackend({ backend: backend as 'cpu' | 'wasm', threads: 1 });
    for (const shape of shapes) {
      const x = tf.randomUniform(shape, -1, 2, 'float32', 7);
      const values = x.dataSync() as Float32Array;
      const c = shape[shape.length - 1];
      const before = tf.memory().numTensors;
      const sum = channelSum(x);
      expect(tf.memory().numTensors).toBe(before + 1);
      expect(sum.shape).toEqual([c]);
      const got = Array.from(sum.dataSync());
      const want = reference(values, c);
      const rows = x.size / c;
      // float32 accumulation: a few ulps of the sum of magnitudes per reduction stage.
      for (const [j, g] of got.entries()) expect(Math.abs(g - want[j])).toBeLessThan(rows * 2 * 2 ** -22);
      tf.dispose([x, sum]);
    }
  });
});

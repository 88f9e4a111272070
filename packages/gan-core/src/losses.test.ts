import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { bceWithLogits, distillationLoss, mse } from './losses.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', nativeKernels: false });
});

describe('losses', () => {
  it('bceWithLogits matches −[y·log σ(x) + (1−y)·log(1−σ(x))], also for large |x|', () => {
    const xs = [-3, -0.5, 0, 0.25, 4];
    const ys = [1, 0, 1, 0.3, 0];
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const expected =
      xs.reduce((s, x, i) => s - (ys[i] * Math.log(sig(x)) + (1 - ys[i]) * Math.log(1 - sig(x))), 0) / 5;
    const loss = bceWithLogits(tf.tensor1d(xs), tf.tensor1d(ys));
    expect(loss.dataSync()[0]).toBeCloseTo(expected, 6);
    // log(1 + e^100) would overflow naively; PyTorch gives 100 for target 0 (and 0 for target 1).
    expect(bceWithLogits(tf.tensor2d([[100]]), 0).dataSync()[0]).toBeCloseTo(100, 4);
    expect(bceWithLogits(tf.tensor2d([[100]]), 1).dataSync()[0]).toBeCloseTo(0, 12);
  });

  it('bceWithLogits gradient is (σ(x) − y)/N, agreeing with finite differences and exact at x = 0', () => {
    const xs = [-1.5, 0, 0.7];
    const g = tf
      .grad((x: tf.Tensor) => bceWithLogits(x, 1))(tf.tensor1d(xs))
      .dataSync();
    expect(g[1]).toBeCloseTo((0.5 - 1) / 3, 7);
    const h = 1e-3;
    for (let i = 0; i < xs.length; i++) {
      const at = (d: number) =>
        bceWithLogits(tf.tensor1d(xs.map((v, j) => (j === i ? v + d : v))), 1).dataSync()[0];
      expect(g[i]).toBeCloseTo((at(h) - at(-h)) / (2 * h), 4);
      expect(g[i]).toBeCloseTo((1 / (1 + Math.exp(-xs[i])) - 1) / 3, 6);
    }
  });

  it('mse is the mean squared difference and distillation sums it over levels', () => {
    const a = tf.tensor1d([1, 2, 3]);
    const b = tf.tensor1d([1, 0, 0]);
    expect(mse(a, b).dataSync()[0]).toBeCloseTo(13 / 3, 6);
    const c = tf.tensor2d([[1, 1]]);
    const d = tf.tensor2d([[0, 2]]);
    expect(distillationLoss([a, c], [b, d]).dataSync()[0]).toBeCloseTo(13 / 3 + 1, 6);
    expect(() => distillationLoss([a], [b, d])).toThrow(/1 student levels but 2 teacher levels/);
  });
});

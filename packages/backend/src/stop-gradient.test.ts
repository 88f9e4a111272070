import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { stopGradient } from './stop-gradient.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('stopGradient', () => {
  it('passes values through and blocks the gradient of its branch only', () => {
    const x = tf.tensor1d([1, 2, 3]);
    // f(x) = x² + detach(x)²: value 2x², gradient 2x (not 4x).
    const f = (v: tf.Tensor) => tf.add(tf.square(v), tf.square(stopGradient(v))).sum();
    expect(f(x).dataSync()[0]).toBe(28);
    expect(Array.from(tf.grad(f)(x).dataSync())).toEqual([2, 4, 6]);
  });

  it('lets topk indices (int32) feed gather inside a gradient', () => {
    const x = tf.tensor2d([
      [0.1, 0.7, 0.2],
      [0.5, 0.3, 0.9],
    ]);
    const before = tf.memory().numTensors;
    const f = (v: tf.Tensor) => {
      const { indices } = tf.topk(v, 2);
      const flat = tf.add(stopGradient(indices), tf.tensor2d([[0], [3]], [2, 1], 'int32')).flatten();
      return tf.gather(v.flatten(), flat).sum();
    };
    const g = tf.grad(f)(x);
    // +1 at the two largest of each row.
    expect(Array.from(g.dataSync())).toEqual([0, 1, 1, 1, 0, 1]);
    g.dispose();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
  });

  it('int tensors: shares the data and frees it only when both handles are gone', () => {
    const x = tf.tensor1d([4, 5], 'int32');
    const y = stopGradient(x);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([4, 5]);
    y.dispose();
    expect(() => stopGradient(y)).toThrow(/disposed/);
  });
});

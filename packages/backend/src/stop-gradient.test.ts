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
});

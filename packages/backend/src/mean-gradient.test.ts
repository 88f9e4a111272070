import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';

/** TF.js's own Mean gradient, written out: (reshape(dy) · ones) / n. */
function stockGrad(x: tf.Tensor, dy: number, axes: number[]): Float32Array {
  return tf.tidy(() => {
    const shape = x.shape.map((d, i) => (axes.includes(i) ? 1 : d));
    const n = axes.reduce((p, a) => p * x.shape[a], 1);
    const dyT = tf.fill(shape, dy);
    return tf.div(tf.mul(dyT, tf.ones(x.shape)), n).dataSync() as Float32Array;
  });
}

describe('Mean gradient', () => {
  it.for(['wasm', 'cpu'])(
    '%s: equals TF.js’s (dy · 1) / n bit for bit, over all axes and over some',
    async (backend) => {
      await initBackend({ backend: backend as 'wasm' | 'cpu', nativeKernels: false });
      const x = tf.tidy(() => tf.sin(tf.range(0, 2 * 3 * 5 * 7)).reshape([2, 3, 5, 7]));
      const before = tf.memory().numTensors;
      for (const dy of [0.37, -3, 1e-30]) {
        // All axes (a loss): the scalar path.
        const all = tf.tidy(
          () =>
            tf
              .grad((v: tf.Tensor) => tf.mul(tf.mean(v), dy))(x)
              .dataSync() as Float32Array,
        );
        expect(Array.from(all)).toEqual(Array.from(stockGrad(x, dy, [0, 1, 2, 3])));
        expect(all.every((v) => v === all[0]) && all[0] !== 0).toBe(true);
        // Some axes: TF.js's own gradient.
        const some = tf.tidy(
          () =>
            tf
              .grad((v: tf.Tensor) => tf.mul(tf.sum(tf.mean(v, [1, 2])), dy))(x)
              .dataSync() as Float32Array,
        );
        expect(Array.from(some)).toEqual(Array.from(stockGrad(x, dy, [1, 2])));
      }
      // The loss path multiplies nothing by a ones tensor (TF.js's does: Multiply, then RealDiv).
      const profile = await tf.profile(() =>
        tf
          .grad((v: tf.Tensor) => tf.mean(v))(x)
          .dispose(),
      );
      expect(profile.kernels.map((k) => k.name)).not.toContain('Multiply');
      expect(tf.memory().numTensors).toBe(before);
      x.dispose();
    },
  );
});

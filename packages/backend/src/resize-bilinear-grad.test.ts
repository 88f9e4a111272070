import { afterAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { stockResizeBilinearGrad } from './resize-bilinear-grad.js';
import { tf } from './tf.js';

afterAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// [x shape, output size, alignCorners, halfPixelCenters]
const CASES: [[number, number, number, number], [number, number], boolean, boolean][] = [
  [[2, 4, 4, 3], [8, 8], false, true], // squid's decoder: ×2, half-pixel (PyTorch align_corners=False)
  [[1, 5, 7, 2], [9, 13], false, true], // non-integer scale
  [[2, 8, 6, 1], [5, 3], false, true], // downscaling
  [[1, 5, 7, 2], [9, 13], true, false], // the stock kernels' cases, unchanged
  [[1, 5, 7, 2], [9, 13], false, false],
];

/**
 * The exact gradient of Σ w·resize(x) with respect to x: the resize is linear in x, so entry i
 * is Σ w·resize(eᵢ), from the forward kernel on each basis image.
 */
function reference(shape: number[], size: [number, number], w: tf.Tensor, align: boolean, half: boolean) {
  const n = shape.reduce((p, d) => p * d, 1);
  return tf.tidy(() => {
    // All n basis images eᵢ (each a whole x) as one batch of n·B images.
    const basis = tf.oneHot(tf.range(0, n, 1, 'int32'), n).reshape([n * shape[0], ...shape.slice(1)]);
    const y = tf.image.resizeBilinear(basis as tf.Tensor4D, size, align, half).reshape([n, -1]);
    return tf.sum(tf.mul(y, w.reshape([1, -1])), 1).dataSync();
  });
}

describe('ResizeBilinearGrad', () => {
  it.for(['cpu', 'wasm'])('%s: equals the exact gradient, half-pixel centres included', async (backend) => {
    await initBackend({ backend: backend as 'cpu' | 'wasm', threads: 1, nativeKernels: false });
    for (const [shape, size, align, half] of CASES) {
      const x = tf.randomNormal(shape, 0, 1, 'float32', 5) as tf.Tensor4D;
      const w = tf.randomNormal([shape[0], size[0], size[1], shape[3]], 0, 1, 'float32', 6);
      const grad = tf.grad((xi: tf.Tensor) =>
        tf.sum(tf.mul(tf.image.resizeBilinear(xi as tf.Tensor4D, size, align, half), w)),
      )(x);
      const got = grad.dataSync();
      const want = reference(shape, size, w, align, half);
      const label = `${shape} → ${size} align ${align} half ${half}`;
      let worst = 0;
      for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]));
      expect({ label, worst }).toEqual({ label, worst: expect.closeTo(0, 5) });
      tf.dispose([x, w, grad]);
    }
  });

  it('replaces the stock kernels on both backends', async () => {
    await initBackend({ backend: 'wasm', threads: 1, nativeKernels: false });
    for (const name of ['cpu', 'wasm'] as const) {
      expect(stockResizeBilinearGrad(name)).toBeDefined();
      expect(tf.getKernel(tf.ResizeBilinearGrad, name)!.kernelFunc).not.toBe(
        stockResizeBilinearGrad(name)!.kernelFunc,
      );
    }
  });
});

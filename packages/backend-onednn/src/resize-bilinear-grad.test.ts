import { initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { disableNativeKernels, enableNativeKernels, nativeAvailable, nativeKernelStats } from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

/** dL/dx of Σ w ⊙ resizeBilinear(x), with the kernels registered now. */
function resizeGrad(x: tf.Tensor4D, size: [number, number], half: boolean): Float32Array {
  return tf.tidy(() => {
    const w = tf.sin(
      tf.range(0, x.shape[0] * size[0] * size[1] * x.shape[3]).reshape([x.shape[0], ...size, x.shape[3]]),
    );
    const g = tf.grad((v: tf.Tensor) =>
      tf.sum(tf.mul(tf.image.resizeBilinear(v as tf.Tensor4D, size, false, half), w)),
    )(x);
    return g.dataSync() as Float32Array;
  });
}

describe('native ResizeBilinearGrad', () => {
  afterAll(() => disableNativeKernels());

  it.skipIf(!available)(
    `gives the bits of @squid-ad/backend's kernel with half-pixel centres, and leaves the other calls to it${skip}`,
    async () => {
      for (const backend of ['wasm', 'cpu'] as const) {
        await initBackend({ backend, nativeKernels: false });
        // SQUID's decoder doubles [16, 12, 12, 64] maps; then odd sizes, down-sampling and batch 1.
        const cases: [number[], [number, number]][] = [
          [
            [16, 12, 12, 64],
            [24, 24],
          ],
          [
            [3, 5, 7, 3],
            [11, 4],
          ],
          [
            [1, 9, 6, 5],
            [4, 13],
          ],
        ];
        for (const [shape, size] of cases) {
          const x = tf.tidy(
            () => tf.cos(tf.range(0, tf.util.sizeFromShape(shape))).reshape(shape) as tf.Tensor4D,
          );
          disableNativeKernels();
          const ours = resizeGrad(x, size, true);
          const plain = resizeGrad(x, size, false);
          enableNativeKernels({ backends: [backend] });
          const before = nativeKernelStats()[`${backend}/ResizeBilinearGrad`] ?? { native: 0, fallback: 0 };
          const native = resizeGrad(x, size, true);
          const mid = nativeKernelStats()[`${backend}/ResizeBilinearGrad`];
          expect(mid.native - before.native, `${backend} ${shape}`).toBe(1);
          expect(
            Buffer.from(native.buffer).equals(Buffer.from(ours.buffer)),
            `${backend} ${shape} → ${size}`,
          ).toBe(true);
          // Without half-pixel centres: the backend's kernel, unchanged.
          expect(Array.from(resizeGrad(x, size, false))).toEqual(Array.from(plain));
          expect(nativeKernelStats()[`${backend}/ResizeBilinearGrad`].fallback - mid.fallback).toBe(1);
          // The gradient is not trivially zero or equal to the other grid's.
          expect(native.some((v) => v !== 0)).toBe(true);
          expect(Array.from(native)).not.toEqual(Array.from(plain));
          x.dispose();
        }
        disableNativeKernels();
      }
    },
  );
});

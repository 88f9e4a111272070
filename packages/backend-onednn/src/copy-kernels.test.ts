import { initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { disableNativeKernels, enableNativeKernels, nativeAvailable, nativeKernelStats } from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

/** Distinct values, so that a misplaced element shows. */
const ramp = (shape: number[], from = 0) =>
  tf.tidy(() => tf.add(tf.range(0, tf.util.sizeFromShape(shape)), from).reshape(shape));

/** Concat of `shapes` along `axis`, then its gradient (SplitV) under a weighting: both as arrays. */
function concatAndGrad(shapes: number[][], axis: number): Float32Array[] {
  return tf.tidy(() => {
    const xs = shapes.map((s, i) => ramp(s, 1000 * i));
    const y = tf.concat(xs, axis);
    const w = tf.sin(ramp(y.shape));
    const grads = tf.grads((...vs: tf.Tensor[]) => tf.sum(tf.mul(tf.concat(vs, axis), w)))(xs);
    return [y.dataSync() as Float32Array, ...grads.map((g) => g.dataSync() as Float32Array)];
  });
}

describe('native Concat and SplitV', () => {
  afterAll(() => disableNativeKernels());

  it.skipIf(!available)(
    `copy the same elements as the backend's kernels, along every axis${skip}`,
    async () => {
      for (const backend of ['wasm', 'cpu'] as const) {
        await initBackend({ backend, nativeKernels: false });
        // SQUID's decoder concatenates skip features on channels, [144, 16, 16, 64] + [144, 16, 16, 128]:
        // here fewer rows, still enough to run them in parallel; then every axis of small tensors,
        // three parts, and rows long enough to be copied in chunks.
        const cases: [number[][], number][] = [
          [
            [
              [18, 8, 8, 64],
              [18, 8, 8, 128],
            ],
            3,
          ],
          [
            [
              [2, 3, 4, 5],
              [2, 3, 4, 2],
              [2, 3, 4, 1],
            ],
            3,
          ],
          [
            [
              [2, 3, 4, 5],
              [2, 1, 4, 5],
            ],
            1,
          ],
          [
            [
              [3, 2, 2],
              [1, 2, 2],
            ],
            0,
          ],
          [
            [
              [2, 70000],
              [2, 30000],
            ],
            1,
          ],
        ];
        for (const [shapes, axis] of cases) {
          disableNativeKernels();
          const want = concatAndGrad(shapes, axis);
          enableNativeKernels({ backends: [backend] });
          const stats = (k: string) => nativeKernelStats()[`${backend}/${k}`] ?? { native: 0, fallback: 0 };
          const before = [stats('Concat').native, stats('SplitV').native];
          const got = concatAndGrad(shapes, axis);
          expect(stats('Concat').native - before[0], `${backend} concat ${shapes}`).toBe(2);
          expect(stats('SplitV').native - before[1], `${backend} split ${shapes}`).toBe(1);
          got.forEach((a, i) => {
            const bytes = (v: Float32Array) => Buffer.from(v.buffer, v.byteOffset, v.byteLength);
            const same = a.length === want[i].length && bytes(a).equals(bytes(want[i]));
            expect(same, `${backend} ${shapes} axis ${axis} output ${i}`).toBe(true);
          });
        }
        // int32 stays with the backend's kernel.
        const fallbacks = stats(backend);
        const ints = tf.concat([tf.tensor1d([1, 2], 'int32'), tf.tensor1d([3], 'int32')]);
        expect(Array.from(ints.dataSync())).toEqual([1, 2, 3]);
        expect(stats(backend) - fallbacks).toBe(1);
        ints.dispose();
        disableNativeKernels();
      }
    },
  );
});

function stats(backend: string): number {
  return nativeKernelStats()[`${backend}/Concat`]?.fallback ?? 0;
}

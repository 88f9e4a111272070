import { initBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  disableNativeKernels,
  enableNativeKernels,
  nativeAvailable,
  nativeKernelStats,
  oneDnn,
} from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

const count = (k: string, field: 'native' | 'fallback' = 'native') => nativeKernelStats()[k]?.[field] ?? 0;

function fill(rng: Rng, shape: number[]): tf.Tensor {
  return tf.tensor(
    Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.uniform(-1, 1)),
    shape,
  );
}

describe('native kernels on the wasm backend', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false });
  });
  afterAll(() => disableNativeKernels());

  it.skipIf(!available)(
    `enable reports the library and replaces the kernels; disable restores them${skip}`,
    () => {
      const original = tf.getKernel('Conv2D', 'wasm');
      const status = enableNativeKernels({ backends: ['wasm'], threads: 2 });
      expect(status.enabled).toBe(true);
      expect(status.version).toMatch(/^2\.\d+\.\d+$/);
      expect(status.threads).toBe(2);
      expect(tf.getKernel('Conv2D', 'wasm')).not.toBe(original);
      disableNativeKernels();
      expect(tf.getKernel('Conv2D', 'wasm')).toBe(original);
    },
  );

  it.skipIf(!available)(`hands int32 and mixed-broadcast calls back to the wasm kernels${skip}`, () => {
    enableNativeKernels({ backends: ['wasm'] });
    const rng = Rng.fromSeed(5);
    const before = count('wasm/BatchMatMul', 'fallback');
    tf.tidy(() => {
      const ai = tf.tensor([1, 2, 3, 4], [1, 2, 2], 'int32');
      // wasm has no int32 matMul either, so the handed-back call throws the wasm kernel's error.
      expect(() => tf.matMul(ai, ai)).toThrow(/float32/);
      const a = fill(rng, [2, 1, 3, 4]);
      const b = fill(rng, [1, 3, 4, 5]);
      const mixed = tf.matMul(a, b).dataSync();
      disableNativeKernels();
      const ref = tf.matMul(a, b).dataSync();
      expect(Array.from(mixed)).toEqual(Array.from(ref));
    });
    expect(count('wasm/BatchMatMul', 'fallback') - before).toBe(2);
    expect(nativeKernelStats()['wasm/BatchMatMul'].lastFallback).toMatch(/mixed batch broadcast/);
  });

  it.skipIf(!available)(`a oneDNN error frees the output it allocated and falls back${skip}`, () => {
    enableNativeKernels({ backends: ['wasm'] });
    const rng = Rng.fromSeed(6);
    const x = fill(rng, [1, 6, 6, 2]);
    const w = fill(rng, [3, 3, 2, 4]);
    const wasm = tf.backend() as unknown as { numDataIds(): number };
    const ids = wasm.numDataIds();
    const before = count('wasm/Conv2D', 'fallback');
    // 'ceil' rounding with pad 0 asks for a 3x3 output that oneDNN's floor geometry rejects.
    const y = tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 0, 'NHWC', 1, 'ceil');
    expect(y.shape).toEqual([1, 3, 3, 4]);
    expect(count('wasm/Conv2D', 'fallback') - before).toBe(1);
    expect(nativeKernelStats()['wasm/Conv2D'].lastFallback).toMatch(/oneDNN conv forward/);
    expect(wasm.numDataIds()).toBe(ids + 1);
    tf.dispose([x, w, y]);
  });

  it.skipIf(!available)(`dilated conv (rate 2, same) matches the cpu kernel${skip}`, async () => {
    const rng = Rng.fromSeed(10);
    const x = new Float32Array(2 * 11 * 11 * 3).map(() => rng.uniform(-1, 1));
    const w = new Float32Array(3 * 3 * 3 * 4).map(() => rng.uniform(-1, 1));
    const run = () =>
      tf.tidy(
        () =>
          tf
            .conv2d(tf.tensor4d(x, [2, 11, 11, 3]), tf.tensor4d(w, [3, 3, 3, 4]), 1, 'same', 'NHWC', 2)
            .dataSync() as Float32Array,
      );
    enableNativeKernels({ backends: ['wasm'] });
    const before = count('wasm/Conv2D');
    const native = run();
    expect(count('wasm/Conv2D') - before).toBe(1);
    await tf.setBackend('cpu');
    const ref = run();
    await tf.setBackend('wasm');
    let diff = 0;
    for (let i = 0; i < ref.length; i++) diff = Math.max(diff, Math.abs(native[i] - ref[i]));
    expect(diff).toBeLessThan(1e-5);
  });

  it.skipIf(!available)(`leaks no tensors and reuses primitives across calls of one shape${skip}`, () => {
    enableNativeKernels({ backends: ['wasm'] });
    const rng = Rng.fromSeed(8);
    const x = fill(rng, [4, 10, 10, 3]);
    const w = fill(rng, [3, 3, 3, 8]);
    const step = () =>
      tf.tidy(() => {
        const f = (xx: tf.Tensor, ww: tf.Tensor) =>
          tf
            .conv2d(xx as tf.Tensor4D, ww as tf.Tensor4D, 1, 'same')
            .square()
            .sum();
        const [gx, gw] = tf.grads(f)([x, w]);
        return tf.add(gx.sum(), gw.sum());
      });
    tf.dispose(step());
    const tensors = tf.memory().numTensors;
    const cached = oneDnn().cacheStats();
    for (let i = 0; i < 3; i++) tf.dispose(step());
    expect(tf.memory().numTensors).toBe(tensors);
    const after = oneDnn().cacheStats();
    expect(after.convForward).toBe(cached.convForward);
    expect(after.convBackwardData).toBe(cached.convBackwardData);
    expect(after.convBackwardWeights).toBe(cached.convBackwardWeights);
    tf.dispose([x, w]);
  });

  it.skipIf(!available)(
    `gradients of a small conv net through native kernels match the cpu backend's${skip}`,
    async () => {
      const rng = Rng.fromSeed(9);
      const shapes = { x: [16, 12, 12, 1], w1: [3, 3, 1, 8], w2: [5, 5, 8, 16], fc: [16, 3] };
      const data = Object.fromEntries(
        Object.entries(shapes).map(([k, s]) => [
          k,
          Float32Array.from({ length: tf.util.sizeFromShape(s) }, () => rng.uniform(-1, 1)),
        ]),
      );
      const lossAndGrads = () =>
        tf.tidy(() => {
          const t = (k: keyof typeof shapes) => tf.tensor(data[k], shapes[k]);
          const x = t('x') as tf.Tensor4D;
          const f = (w1: tf.Tensor, w2: tf.Tensor, fc: tf.Tensor) => {
            const h1 = tf.relu(
              tf.conv2d(x, w1 as tf.Tensor4D, 1, [
                [0, 0],
                [1, 1],
                [1, 1],
                [0, 0],
              ]),
            );
            const h2 = tf.leakyRelu(
              tf.conv2d(h1, w2 as tf.Tensor4D, 2, [
                [0, 0],
                [2, 2],
                [2, 2],
                [0, 0],
              ]),
              0.2,
            );
            const pooled = tf.mean(h2, [1, 2]);
            return tf
              .matMul(pooled, fc as tf.Tensor2D)
              .square()
              .mean() as tf.Scalar;
          };
          const { value, grads } = tf.valueAndGrads(f)([t('w1'), t('w2'), t('fc')]);
          return [value, ...grads].map((g) => g.dataSync() as Float32Array);
        });
      enableNativeKernels({ backends: ['wasm'] });
      await tf.setBackend('wasm');
      const filterCalls = count('wasm/Conv2DBackpropFilter');
      const native = lossAndGrads();
      expect(count('wasm/Conv2DBackpropFilter') - filterCalls).toBe(2);
      await tf.setBackend('cpu');
      disableNativeKernels();
      const ref = lossAndGrads();
      await tf.setBackend('wasm');
      for (let i = 0; i < ref.length; i++) {
        let diff = 0;
        let scale = 0;
        for (let j = 0; j < ref[i].length; j++) {
          diff = Math.max(diff, Math.abs(native[i][j] - ref[i][j]));
          scale = Math.max(scale, Math.abs(ref[i][j]));
        }
        expect(scale).toBeGreaterThan(0);
        expect(diff / scale, `output ${i}`).toBeLessThan(1e-5);
      }
    },
  );
});

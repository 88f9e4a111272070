import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { loadAddon } from './addon.js';
import { disableNativeKernels, enableNativeKernels, nativeAvailable } from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

describe('fused BatchNorm kernels', () => {
  afterAll(() => disableNativeKernels());

  it.skipIf(!available)(
    `are added while the native kernels are enabled, and removed after${skip}`,
    async () => {
      await initBackend({ backend: 'wasm', nativeKernels: false });
      expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeUndefined();
      enableNativeKernels({ backends: ['wasm'] });
      expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeDefined();
      expect(tf.getKernel(BATCH_NORM_TRAIN_GRAD, 'wasm')).toBeDefined();
      disableNativeKernels();
      expect(tf.getKernel(BATCH_NORM_TRAIN, 'wasm')).toBeUndefined();
    },
  );

  it.skipIf(!available)(
    `normalise with batch statistics like a float64 reference, ReLU fused${skip}`,
    async () => {
      await initBackend({ backend: 'wasm', nativeKernels: false });
      enableNativeKernels({ backends: ['wasm'] });
      const [n, h, w, c] = [16, 6, 6, 8];
      const xs = Float32Array.from(
        { length: n * h * w * c },
        (_, i) => Math.sin(i * 0.7) * (1 + (i % c)) + (i % c),
      );
      const gamma = Float32Array.from({ length: c }, (_, i) => 0.5 + i * 0.25);
      const beta = Float32Array.from({ length: c }, (_, i) => 0.1 * i - 0.3);
      const [y, mean, variance] = tf
        .engine()
        .runKernel(
          BATCH_NORM_TRAIN,
          { x: tf.tensor4d(xs, [n, h, w, c]), gamma: tf.tensor1d(gamma), beta: tf.tensor1d(beta) },
          { eps: 1e-5, relu: true } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor[];
      const count = n * h * w;
      const m = new Float64Array(c);
      const v = new Float64Array(c);
      xs.forEach((x, i) => {
        m[i % c] += x / count;
      });
      xs.forEach((x, i) => {
        v[i % c] += (x - m[i % c]) ** 2 / count;
      });
      const ys = y.dataSync();
      let err = 0;
      xs.forEach((x, i) => {
        const k = i % c;
        const want = Math.max(0, (gamma[k] * (x - m[k])) / Math.sqrt(v[k] + 1e-5) + beta[k]);
        err = Math.max(err, Math.abs(ys[i] - want));
      });
      expect(err).toBeLessThan(1e-5);
      for (const [k, got] of mean.dataSync().entries()) expect(got).toBeCloseTo(m[k], 5);
      for (const [k, got] of variance.dataSync().entries())
        expect(Math.abs(got - v[k]) / v[k]).toBeLessThan(1e-5);
      tf.dispose([y, mean, variance]);
    },
  );

  it.skipIf(!available)(
    `fuse the ReLU into oneDNN's primitive (an optimised kernel, not the reference one) with the same bits as the separate pass${skip}`,
    () => {
      const addon = loadAddon().addon!;
      // SQUID's shapes: the encoder's first level at batch 16, a patch level at 16 × 9 patches.
      for (const [n, h, w, c] of [
        [16, 24, 24, 32],
        [144, 8, 8, 64],
        [3, 5, 7, 13],
      ]) {
        const size = n * h * w * c;
        const x = Float32Array.from(
          { length: size },
          (_, i) => Math.sin(i * 0.37) * (1 + (i % c)) + 0.1 * (i % 5),
        );
        const gamma = Float32Array.from({ length: c }, (_, i) => (i % 3 === 0 ? -0.7 : 0.5 + i * 0.1));
        const beta = Float32Array.from({ length: c }, (_, i) => 0.05 * i - 0.4);
        const run = (relu: number) => {
          const out = { y: new Float32Array(size), mean: new Float32Array(c), variance: new Float32Array(c) };
          addon.batchNormForward!(
            x,
            gamma,
            beta,
            out.y,
            out.mean,
            out.variance,
            Int32Array.of(n, h, w, c, relu),
            1e-5,
          );
          return out;
        };
        const fused = run(1);
        const separate = run(2);
        const plain = run(0);
        expect(
          Buffer.from(fused.y.buffer).equals(Buffer.from(separate.y.buffer)),
          `[${n}, ${h}, ${w}, ${c}]`,
        ).toBe(true);
        expect(Array.from(fused.mean)).toEqual(Array.from(separate.mean));
        expect(Array.from(fused.variance)).toEqual(Array.from(separate.variance));
        // The ReLU really ran: negatives of the plain output are zeros, the rest unchanged.
        expect(plain.y.some((v) => v < 0)).toBe(true);
        expect(Array.from(fused.y)).toEqual(Array.from(plain.y, (v) => Math.max(v, 0)));
        const impl = addon.cacheStats().implementations[`bn,${n},${h},${w},${c},1e-05,relu`];
        expect(impl, `[${n}, ${h}, ${w}, ${c}]`).toMatch(/^(?!ref)/);
      }
    },
  );

  it.skipIf(!available)(
    `backward: dx, dgamma, dbeta like a float64 reference, masked by y > 0, the same bits on 1 and 2 threads${skip}`,
    () => {
      const addon = loadAddon().addon!;
      const threads = addon.getNumThreads();
      // Many blocks of 64 rows and threaded ([144, 8, 8, 64]), one partial block ([3, 5, 7, 13]).
      for (const [n, h, w, c] of [
        [144, 8, 8, 64],
        [3, 5, 7, 13],
      ]) {
        const size = n * h * w * c;
        const rows = n * h * w;
        const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37) * (1 + (i % c)) + (i % 7));
        const dy = Float32Array.from({ length: size }, (_, i) => Math.cos(i * 0.13) + 0.2);
        const gamma = Float32Array.from({ length: c }, (_, i) => (i % 3 === 0 ? -0.7 : 0.5 + i * 0.1));
        const beta = Float32Array.from({ length: c }, (_, i) => 0.05 * i - 0.4);
        const y = new Float32Array(size);
        const mean = new Float32Array(c);
        const variance = new Float32Array(c);
        addon.batchNormForward!(x, gamma, beta, y, mean, variance, Int32Array.of(n, h, w, c, 1), 1e-5);
        const backward = (withY: boolean, ompThreads: number) => {
          addon.setNumThreads(ompThreads);
          const out = { dx: new Float32Array(size), dgamma: new Float32Array(c), dbeta: new Float32Array(c) };
          const dims = Int32Array.of(n, h, w, c);
          const yArg = withY ? y : null;
          addon.batchNormBackward!(
            x,
            dy,
            gamma,
            beta,
            mean,
            variance,
            yArg,
            out.dx,
            out.dgamma,
            out.dbeta,
            dims,
            1e-5,
          );
          return out;
        };
        try {
          for (const withY of [true, false]) {
            const got = backward(withY, 2);
            const one = backward(withY, 1);
            for (const k of ['dx', 'dgamma', 'dbeta'] as const) {
              expect(
                Buffer.from(one[k].buffer).equals(Buffer.from(got[k].buffer)),
                `${k} 1 vs 2 threads`,
              ).toBe(true);
            }
            // float64: g = dy (masked), dbeta = Σg, dgamma = Σg·x̂, dx = γ·r/M·(M·g − Σg − x̂·Σg·x̂).
            const sg = new Float64Array(c);
            const sgx = new Float64Array(c);
            const g = Float64Array.from(dy, (d, i) => (!withY || y[i] > 0 ? d : 0));
            const r = Float64Array.from(variance, (v) => 1 / Math.sqrt(v + 1e-5));
            const xhat = Float64Array.from(x, (v, i) => (v - mean[i % c]) * r[i % c]);
            const sgxAbs = new Float64Array(c); // the sums' condition: float32 error is relative to Σ|terms|
            g.forEach((v, i) => {
              sg[i % c] += v;
              sgx[i % c] += v * xhat[i];
              sgxAbs[i % c] += Math.abs(v * xhat[i]);
            });
            const scale = (a: ArrayLike<number>) =>
              Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 1);
            const relErr = (a: Float32Array, want: (i: number) => number, s: number) =>
              a.reduce((m, v, i) => Math.max(m, Math.abs(v - want(i))), 0) / s;
            expect(relErr(got.dbeta, (k) => sg[k], scale(sg))).toBeLessThan(1e-5);
            expect(relErr(got.dgamma, (k) => sgx[k], scale(sgxAbs))).toBeLessThan(1e-6);
            const dxWant = (i: number) => {
              const k = i % c;
              return ((gamma[k] * r[k]) / rows) * (rows * g[i] - sg[k] - xhat[i] * sgx[k]);
            };
            const dxs = Float64Array.from({ length: size }, (_, i) => dxWant(i));
            expect(relErr(got.dx, dxWant, scale(dxs))).toBeLessThan(1e-5);
            if (withY) expect(got.dx.some((v, i) => y[i] === 0 && v !== 0)).toBe(true); // x̂ terms reach masked rows
          }
        } finally {
          addon.setNumThreads(threads);
        }
      }
    },
  );
});

import { fusedAdamKernel, initBackend, Rng } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import {
  disableNativeKernels,
  enableNativeKernels,
  nativeAvailable,
  nativeKernelsStatus,
  oneDnn,
} from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

/** The update in JS, every operation rounded to float32: the exact float32 result. */
function reference(
  p: Float32Array,
  m: Float32Array,
  v: Float32Array,
  g: Float32Array,
  k: Float32Array,
): void {
  const f = Math.fround;
  const [b1, omb1, b2, omb2, wd, bc2, eps, step] = k;
  for (let j = 0; j < p.length; j++) {
    const gj = wd !== 0 ? f(g[j] + f(p[j] * wd)) : g[j];
    const mj = f(f(m[j] * b1) + f(gj * omb1));
    const vj = f(f(v[j] * b2) + f(f(gj * gj) * omb2));
    const denom = f(f(f(Math.sqrt(vj)) / bc2) + eps);
    p[j] = f(p[j] - f(f(mj / denom) * step));
    m[j] = mj;
    v[j] = vj;
  }
}

describe('native fused Adam', () => {
  afterAll(() => disableNativeKernels());

  it.skipIf(!available)(`equals float32 arithmetic bit for bit, over threads and sizes${skip}`, () => {
    const rng = Rng.fromSeed(3);
    // 200,003 entries: above the size at which the loop is split across threads, odd tail.
    for (const n of [7, 200_003]) {
      for (const wd of [0, 1e-5]) {
        const k = Float32Array.of(
          0.5,
          0.5,
          0.999,
          1 - 0.999,
          wd,
          Math.sqrt(1 - 0.999 ** 3),
          1e-7,
          1e-4 / (1 - 0.5 ** 3),
        );
        const make = () => Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
        const [p, m, g] = [make(), make(), make()];
        const v = Float32Array.from(make(), Math.abs);
        const ours = [p, m, v].map((a) => a.slice());
        const theirs = [p, m, v].map((a) => a.slice());
        oneDnn().adamUpdate!(ours[0], ours[1], ours[2], g, k);
        reference(theirs[0], theirs[1], theirs[2], g, k);
        expect(ours).toEqual(theirs);
        expect(ours[0]).not.toEqual(p);
      }
    }
  });

  it.skipIf(!available)(
    `is installed for @squid-ad/gan-core's Adam while the kernels are enabled${skip}`,
    async () => {
      await initBackend({ backend: 'wasm', nativeKernels: false });
      expect(fusedAdamKernel()).toBeUndefined();
      enableNativeKernels({ backends: ['wasm'] });
      expect(fusedAdamKernel()).toBeTypeOf('function');
      disableNativeKernels();
      expect(fusedAdamKernel()).toBeUndefined();
    },
  );

  it.skipIf(!available)(
    `serves only backends whose conv and matMul are oneDNN's too (in-place updates vs XNNPACK's packed weights)${skip}`,
    async () => {
      await initBackend({ backend: 'cpu', nativeKernels: true });
      expect(fusedAdamKernel()).toBeTypeOf('function');
      // wasm keeps its own kernels: a conv there must see every update, so no in-place Adam.
      await initBackend({ backend: 'wasm', nativeKernels: false });
      expect(fusedAdamKernel()).toBeUndefined();
      enableNativeKernels({ backends: ['wasm'], kernels: ['Conv2DBackpropFilter'] });
      expect(fusedAdamKernel()).toBeUndefined();
      enableNativeKernels({ backends: ['wasm'] });
      expect(fusedAdamKernel()).toBeTypeOf('function');
      // "nativeKernels: false" switches off what an earlier call enabled.
      await initBackend({ backend: 'wasm', nativeKernels: false });
      expect(fusedAdamKernel()).toBeUndefined();
      expect(nativeKernelsStatus().enabled).toBe(false);
    },
  );

  it.skipIf(!available)(`rejects arrays of the wrong type or length${skip}`, () => {
    const a = new Float32Array(4);
    const k = new Float32Array(8);
    expect(() => oneDnn().adamUpdate!(a, a, new Float32Array(3), a, k)).toThrow(
      /exp_avg_sq has 3 elements, needs 4/,
    );
    expect(() => oneDnn().adamUpdate!(a, a, a, new Float64Array(4) as unknown as Float32Array, k)).toThrow(
      /grad must be a Float32Array/,
    );
  });
});

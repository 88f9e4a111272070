// The bfloat16 conv and matMul kernels against the float32 ones, with bounds derived from bf16's
// rounding. Notation: an output element is y = Σ_{i≤K} a_i·b_i (K = the reduction length), and
// S = Σ|a_i|·|b_i| (computed by the float32 kernel on |a| and |b|).
// - bf16 has an 8-bit significand, so rounding to nearest even gives ā = a(1+α), |α| ≤ u = 2^-8.
//   The product of two bf16 values (8 + 8 bits) is exact in float32, so the bf16 kernel's only
//   other error is float32 accumulation, ≤ (K-1)·ε·Σ|ā·b̄| with ε = 2^-24, in any summation order.
//   Against the float32 kernel (itself within K·ε·S of y):
//     |y_bf16 − y_f32| ≤ (2u + u² + 2Kε)·S·(1 + u)²                     (bound A: precision)
// - Against the float32 kernel run on the inputs rounded to bf16 here (round to nearest even),
//   only the two float32 summations differ:
//     |y_bf16 − f32(ā, b̄)| ≤ 2Kε·S̄,  S̄ = Σ|ā|·|b̄|                      (bound B: bf16 inputs, f32 sums)
//   Bound B is 2^16/K times tighter than A (~200× at K = 288), so it fails if the kernel rounded
//   differently (truncation), kept bf16 partial sums, or ran in float32.
// - The worst cases above are loose when K is large (a weight gradient sums K = N·OH·OW terms), so
//   two statistics prove that bf16 ran: nearly every element differs from float32, and the
//   results are at least 10× closer (RMS) to float32 on bf16-rounded inputs than to float32 on the
//   inputs: float32 with another summation order would be ~1000× closer to the latter instead.
import { readFileSync } from 'node:fs';
import { initBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bf16Pays,
  bf16Support,
  bf16WeightGradientPays,
  convParams,
  disableNativeKernels,
  enableNativeKernels,
  KERNEL_NAMES,
  nativeAvailable,
  nativeKernelStats,
  type OneDnnAddon,
  oneDnn,
  planMatMul,
  precisionFromEnv,
  resolvePrecision,
} from './index.js';

const { available, reason } = nativeAvailable();
const support = bf16Support();
// Emulated bf16 (oneDNN on plain AVX-512) computes the same roundings, so it is tested too.
const runs = available && support.runs;
const skip = runs ? '' : ` [skipped: ${available ? `no bfloat16 kernels: ${support.reason}` : reason}]`;

const U = 2 ** -8;
const EPS = 2 ** -24;

/** float32 → nearest bf16 (ties to even), returned as a float32. */
function roundBf16(v: Float32Array): Float32Array {
  const out = new Float32Array(v);
  const bits = new Uint32Array(out.buffer);
  for (let i = 0; i < bits.length; i++) {
    const b = bits[i];
    bits[i] = ((b + 0x7fff + ((b >>> 16) & 1)) & 0xffff0000) >>> 0;
  }
  return out;
}

const abs = (v: Float32Array) => v.map(Math.abs);

interface Checked {
  /** max |bf16 − f32| / S over the elements: the observed precision. */
  worstA: number;
  /** Elements whose bf16 result differs from float32 at all. */
  differing: number;
  /** RMS of bf16 − f32(a, b) and of bf16 − f32(ā, b̄). */
  rmsToF32: number;
  rmsToRounded: number;
}

/**
 * Checks bounds A and B for one op. `run(f32?, a, b, out)` computes it with the float32 (true)
 * or bfloat16 kernel; K is the reduction length; `extra` adds |bias| to S.
 */
function check(
  what: string,
  k: number,
  size: number,
  run: (f32: boolean, a: Float32Array, b: Float32Array, out: Float32Array) => void,
  a: Float32Array,
  b: Float32Array,
): Checked {
  const out = () => new Float32Array(size);
  const [got, ref, refRounded, s, sRounded] = [out(), out(), out(), out(), out()];
  run(false, a, b, got);
  run(true, a, b, ref);
  const [ar, br] = [roundBf16(a), roundBf16(b)];
  run(true, ar, br, refRounded);
  run(true, abs(a), abs(b), s);
  run(true, abs(ar), abs(br), sRounded);
  const slackA = (2 * U + U * U + 2 * k * EPS) * (1 + U) ** 2 * (1 + k * EPS);
  const slackB = 2 * k * EPS * (1 + k * EPS);
  let worstA = 0;
  let differing = 0;
  let sumA = 0;
  let sumB = 0;
  for (let i = 0; i < size; i++) {
    const errA = Math.abs(got[i] - ref[i]);
    const errB = Math.abs(got[i] - refRounded[i]);
    if (!(errA <= slackA * s[i])) {
      throw new Error(`${what}[${i}]: |bf16 - f32| = ${errA} > bound A ${slackA * s[i]} (S = ${s[i]})`);
    }
    if (!(errB <= slackB * sRounded[i])) {
      throw new Error(`${what}[${i}]: |bf16 - f32(bf16 inputs)| = ${errB} > bound B ${slackB * sRounded[i]}`);
    }
    if (s[i] > 0) worstA = Math.max(worstA, errA / s[i]);
    if (got[i] !== ref[i]) differing++;
    sumA += errA * errA;
    sumB += errB * errB;
  }
  return { worstA, differing, rmsToF32: Math.sqrt(sumA / size), rmsToRounded: Math.sqrt(sumB / size) };
}

type Pad = [[number, number], [number, number], [number, number], [number, number]];
const torchPad = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];

// SQUID's layers at small batch and size: digitanatomy's 3x3 patches (9 per image) at 32 -> 16
// channels widths, the down/up convs, and the discriminator's 5x5 stride-2 convs on whole images.
const CONVS = [
  { name: 'in_conv 3x3 32->32, 9 patches at 16px', n: 9, hw: 16, c: 32, k: 3, o: 32, stride: 1 },
  { name: 'down 3x3 s2 32->64', n: 9, hw: 16, c: 32, k: 3, o: 64, stride: 2 },
  { name: 'up 3x3 128->64 at 8px', n: 4, hw: 8, c: 128, k: 3, o: 64, stride: 1 },
  { name: 'disc 5x5 s2 1->16 (grey image)', n: 2, hw: 32, c: 1, k: 5, o: 16, stride: 2 },
  { name: 'disc 5x5 s2 16->32', n: 2, hw: 16, c: 16, k: 5, o: 32, stride: 2 },
];

const worst: Record<string, number> = {};

function record(op: string, r: Checked, size: number): void {
  worst[op] = Math.max(worst[op] ?? 0, r.worstA);
  expect(r.differing, `${op}: elements differing from float32`).toBeGreaterThan(size * 0.9);
  expect(r.rmsToRounded * 10, `${op}: RMS to f32(bf16 inputs) vs to f32`).toBeLessThan(r.rmsToF32);
}

describe('bfloat16 kernels against float32', () => {
  afterAll(() => {
    if (runs) console.log('worst |bf16 - f32| / sum|a||b| per op (bound A is ~2^-7 = 0.0078):', worst);
  });

  for (const cs of CONVS) {
    it.skipIf(!runs)(`conv forward, backward-data and backward-weights: ${cs.name}${skip}`, () => {
      const addon = oneDnn();
      const rng = Rng.fromSeed(cs.n * 1000 + cs.c);
      const info = tf.backend_util.computeConv2DInfo(
        [cs.n, cs.hw, cs.hw, cs.c],
        [cs.k, cs.k, cs.c, cs.o],
        cs.stride,
        1,
        torchPad((cs.k - 1) / 2) as never,
      );
      const fill = (len: number) => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
      const x = fill(cs.n * cs.hw * cs.hw * cs.c);
      const w = fill(cs.k * cs.k * cs.c * cs.o);
      const dy = fill(tf.util.sizeFromShape(info.outShape));
      const params = convParams(info);
      const fwd = (f32: boolean, a: Float32Array, b: Float32Array, out: Float32Array) =>
        (f32 ? addon.convForward : addon.convForwardBf16)?.(a, b, null, out, params, 0);
      const bwdData = (f32: boolean, a: Float32Array, b: Float32Array, out: Float32Array) =>
        (f32 ? addon.convBackwardData : addon.convBackwardDataBf16)?.(a, b, out, params);
      const bwdWei = (f32: boolean, a: Float32Array, b: Float32Array, out: Float32Array) =>
        (f32 ? addon.convBackwardWeights : addon.convBackwardWeightsBf16)?.(a, b, out, params);
      const kk = cs.k * cs.k;
      const outSize = dy.length;
      record('conv forward', check(`fwd ${cs.name}`, kk * cs.c, outSize, fwd, x, w), outSize);
      record(
        'conv backward-data',
        check(`bwd-data ${cs.name}`, kk * cs.o, x.length, bwdData, dy, w),
        x.length,
      );
      const kw = cs.n * info.outHeight * info.outWidth;
      record('conv backward-weights', check(`bwd-wei ${cs.name}`, kw, w.length, bwdWei, x, dy), w.length);
    });
  }

  it.skipIf(!runs)(
    `the bf16 primitives are oneDNN's bf16 implementations, cached beside float32${skip}`,
    () => {
      const addon = oneDnn();
      const info = tf.backend_util.computeConv2DInfo([3, 6, 6, 16], [3, 3, 16, 8], 1, 1, 'same');
      const params = convParams(info);
      const [x, w, y] = [
        new Float32Array(3 * 6 * 6 * 16),
        new Float32Array(3 * 3 * 16 * 8),
        new Float32Array(3 * 6 * 6 * 8),
      ];
      for (const f32 of [true, false]) {
        (f32 ? addon.convForward : addon.convForwardBf16)?.(x, w, null, y, params, 0);
        (f32 ? addon.convBackwardData : addon.convBackwardDataBf16)?.(y, w, x, params);
        (f32 ? addon.convBackwardWeights : addon.convBackwardWeightsBf16)?.(x, y, w, params);
      }
      // Conv cache keys: kind, the 19 params, the bf16 flag, and for forward the activation's alpha.
      const entries = Object.entries(addon.cacheStats().implementations)
        .map(([k, impl]) => ({ parts: k.split(','), impl }))
        .filter(({ parts }) => parts.slice(1, 20).join(',') === params.join(','));
      const kinds = entries.map(({ parts }) => `${parts[0]}/${parts[20]}`).sort();
      expect(kinds).toEqual(['bwd_data/0', 'bwd_data/1', 'bwd_wei/0', 'bwd_wei/1', 'fwd/0', 'fwd/1']);
      for (const { parts, impl } of entries) {
        if (parts[20] === '1' && support.native) expect(impl, parts[0]).toMatch(/bf16/);
        if (parts[20] === '0') expect(impl, parts[0]).not.toMatch(/bf16/);
      }
    },
  );

  const MATMULS = [
    { name: 'memory read 144x64 . 50x64^T', a: [144, 64], b: [50, 64], ta: false, tb: true },
    { name: 'attention 8 heads 9x32 . 32x9', a: [8, 9, 32], b: [8, 32, 9], ta: false, tb: false },
    { name: 'linear grad 64x96^T . 64x40', a: [64, 96], b: [64, 40], ta: true, tb: false },
    { name: 'batch broadcast b', a: [3, 7, 33], b: [33, 5], ta: false, tb: false },
  ];
  for (const mm of MATMULS) {
    it.skipIf(!runs)(`matMul: ${mm.name}${skip}`, () => {
      const addon: OneDnnAddon = oneDnn();
      const rng = Rng.fromSeed(mm.a.length * 100 + mm.b[0]);
      const plan = planMatMul(mm.a, mm.b, mm.ta, mm.tb);
      if (typeof plan === 'string') throw new Error(plan);
      const fill = (shape: number[]) =>
        Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.uniform(-1, 1));
      const [a, b] = [fill(mm.a), fill(mm.b)];
      const k = plan.params[3];
      const size = tf.util.sizeFromShape(plan.outShape);
      const run = (f32: boolean, x: Float32Array, y: Float32Array, out: Float32Array) =>
        (f32 ? addon.matMul : addon.matMulBf16)?.(x, y, null, out, plan.params, 0);
      record('matMul', check(`matMul ${mm.name}`, k, size, run, a, b), size);
    });
  }
});

describe('precision through enableNativeKernels', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false });
    await initBackend({ backend: 'cpu', nativeKernels: false });
  });
  afterAll(() => disableNativeKernels());

  it.skipIf(!runs)(`bfloat16 kernels serve conv2d and its gradients on cpu and wasm${skip}`, async () => {
    const rng = Rng.fromSeed(21);
    const fill = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.uniform(-1, 1)),
        shape,
      );
    const maxRel = (got: Float32Array, want: Float32Array) => {
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < want.length; j++) {
        diff = Math.max(diff, Math.abs(got[j] - want[j]));
        scale = Math.max(scale, Math.abs(want[j]));
      }
      return diff / scale;
    };
    for (const backend of ['cpu', 'wasm'] as const) {
      await tf.setBackend(backend);
      // 5.3 MFLOP per conv at 230 flops per converted element: bf16 pays (bf16Pays).
      const x = fill([9, 8, 8, 32]) as tf.Tensor4D;
      const w = fill([3, 3, 32, 16]) as tf.Tensor4D;
      const step = () =>
        tf.tidy(() => {
          const f = (xx: tf.Tensor4D, ww: tf.Tensor4D) => tf.sum(tf.square(tf.conv2d(xx, ww, 1, 'same')));
          const [dx, dw] = tf.grads(f as (...a: tf.Tensor[]) => tf.Tensor)([x, w]);
          return [tf.conv2d(x, w, 1, 'same'), dx, dw].map((t) => t.dataSync() as Float32Array);
        });
      expect(enableNativeKernels({ backends: [backend], precision: 'float32' }).precision).toBe('float32');
      const f32 = step();
      const status = enableNativeKernels({ backends: [backend], precision: 'bfloat16' });
      expect(status.precision).toBe('bfloat16');
      const counts = () =>
        ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'].map(
          (op) => nativeKernelStats()[`${backend}/${op}`]?.native ?? 0,
        );
      const before = counts();
      const bf16 = step();
      // The forward ran twice (once under the gradient tape), each gradient once.
      expect(counts().map((c, i) => c - before[i])).toEqual([2, 1, 1]);
      // The kernel's forward is the addon's bf16 forward, bit for bit.
      const params = convParams(tf.backend_util.computeConv2DInfo(x.shape, w.shape, 1, 1, 'same'));
      const direct = new Float32Array(bf16[0].length);
      oneDnn().convForwardBf16?.(
        x.dataSync() as Float32Array,
        w.dataSync() as Float32Array,
        null,
        direct,
        params,
        0,
      );
      expect(Array.from(bf16[0])).toEqual(Array.from(direct));
      // y and dx ran in bf16: not float32's bits, within a few bf16 ulps at their scale (the per
      // element bounds are checked above).
      for (const i of [0, 1]) {
        expect(Array.from(bf16[i]), `${backend} output ${i}`).not.toEqual(Array.from(f32[i]));
        expect(maxRel(bf16[i], f32[i]), `${backend} output ${i}`).toBeLessThan(2 ** -5);
      }
      // dw ran in bf16 too (3x3 stride 1, 8x8 output: bf16WeightGradientPays): the addon's bf16
      // weight gradient of x and this forward's dy = 2y, bit for bit.
      const weightGrad = (bf: boolean, y: Float32Array) => {
        const out = new Float32Array(w.size);
        const fn = bf ? oneDnn().convBackwardWeightsBf16 : oneDnn().convBackwardWeights;
        fn?.(
          x.dataSync() as Float32Array,
          y.map((v) => 2 * v),
          out,
          params,
        );
        return Array.from(out);
      };
      expect(Array.from(bf16[2]), `${backend} dw`).toEqual(weightGrad(true, bf16[0]));
      expect(Array.from(bf16[2]), `${backend} dw`).not.toEqual(weightGrad(false, bf16[0]));
      expect(maxRel(bf16[2], f32[2]), `${backend} dw`).toBeLessThan(2 ** -5);
      // Left out of bf16Kernels, the weight gradient stays float32.
      const others = KERNEL_NAMES.filter((k) => k !== 'Conv2DBackpropFilter');
      enableNativeKernels({ backends: [backend], precision: 'bfloat16', bf16Kernels: others });
      const all = step();
      expect(Array.from(all[2]), `${backend} dw in float32`).toEqual(weightGrad(false, all[0]));
      // auto (where bf16 is native) leaves them out by default: forward in bf16, dw in float32.
      if (support.native) {
        const auto = enableNativeKernels({ backends: [backend], precision: 'auto' });
        expect(auto).toMatchObject({
          precision: 'bfloat16',
          precisionNote: 'auto: weight gradients in float32',
        });
        expect(auto.bf16Kernels).toEqual(others);
        const viaAuto = step();
        expect(Array.from(viaAuto[0]), `${backend} auto y`).toEqual(Array.from(direct));
        expect(Array.from(viaAuto[2]), `${backend} auto dw`).toEqual(weightGrad(false, viaAuto[0]));
        // Asked for by name, bfloat16 keeps them.
        expect(enableNativeKernels({ backends: [backend], precision: 'bfloat16' }).bf16Kernels).toEqual([
          ...KERNEL_NAMES,
        ]);
      }
      tf.dispose([x, w]);
      disableNativeKernels();
    }
    await tf.setBackend('cpu');
  });

  it.skipIf(!runs)(`calls where bf16 does not pay stay float32, bit for bit${skip}`, async () => {
    await tf.setBackend('wasm');
    const rng = Rng.fromSeed(22);
    const fill = (shape: number[]) =>
      tf.tensor(
        Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => rng.uniform(-1, 1)),
        shape,
      );
    // A 3x3 conv of 0.6 MFLOP (< BF16_MIN_FLOPS) and the memory read's shape, 16x4096 . 200x4096^T:
    // 26 MFLOP but ~30 flops per converted element (< BF16_MIN_INTENSITY).
    const x = fill([2, 8, 8, 8]) as tf.Tensor4D;
    const w = fill([3, 3, 8, 16]) as tf.Tensor4D;
    const q = fill([16, 4096]);
    const mem = fill([200, 4096]);
    const big = fill([144, 1024]);
    const wl = fill([1024, 256]);
    expect(bf16Pays(2 * 2 * 64 * 9 * 8 * 16, x.size + w.size)).toBe(false);
    expect(bf16Pays(2 * 16 * 200 * 4096, q.size + mem.size)).toBe(false);
    // A linear layer 144x1024 . 1024x256: 75 MFLOP, ~190 flops per element, does pay.
    expect(bf16Pays(2 * 144 * 256 * 1024, big.size + wl.size)).toBe(true);
    const run = () =>
      tf.tidy(() =>
        [tf.conv2d(x, w, 1, 'same'), tf.matMul(q, mem, false, true), tf.matMul(big, wl)].map(
          (t) => t.dataSync() as Float32Array,
        ),
      );
    enableNativeKernels({ backends: ['wasm'], precision: 'float32' });
    const f32 = run();
    enableNativeKernels({ backends: ['wasm'], precision: 'bfloat16' });
    const bf16 = run();
    expect(Array.from(bf16[0])).toEqual(Array.from(f32[0]));
    expect(Array.from(bf16[1])).toEqual(Array.from(f32[1]));
    expect(Array.from(bf16[2])).not.toEqual(Array.from(f32[2]));
    tf.dispose([x, w, q, mem, big, wl]);
    disableNativeKernels();
    await tf.setBackend('cpu');
  });

  it.skipIf(!available)(`float32 by default; SQUID_ONEDNN_PRECISION and auto choose otherwise${skip}`, () => {
    const saved = process.env.SQUID_ONEDNN_PRECISION;
    try {
      delete process.env.SQUID_ONEDNN_PRECISION;
      expect(enableNativeKernels({ backends: ['cpu'] })).toMatchObject({
        enabled: true,
        precision: 'float32',
      });
      expect(enableNativeKernels({ backends: ['cpu'], precision: 'auto' }).precision).toBe(
        support.native ? 'bfloat16' : 'float32',
      );
      process.env.SQUID_ONEDNN_PRECISION = 'bfloat16';
      expect(enableNativeKernels({ backends: ['cpu'] }).precision).toBe(
        support.runs ? 'bfloat16' : 'float32',
      );
      // An explicit option wins over the environment.
      expect(enableNativeKernels({ backends: ['cpu'], precision: 'float32' }).precision).toBe('float32');
      process.env.SQUID_ONEDNN_PRECISION = 'bf16';
      const status = enableNativeKernels({ backends: ['cpu'] });
      expect(status.precision).toBe('float32');
      expect(status.precisionNote).toBe(
        'SQUID_ONEDNN_PRECISION=bf16 is not float32, bfloat16 or auto; using float32',
      );
    } finally {
      if (saved === undefined) delete process.env.SQUID_ONEDNN_PRECISION;
      else process.env.SQUID_ONEDNN_PRECISION = saved;
      disableNativeKernels();
    }
  });
});

describe('bf16Support and resolvePrecision', () => {
  it.skipIf(!available || process.env.DNNL_MAX_CPU_ISA !== undefined)(
    `native bf16 exactly when /proc/cpuinfo lists avx512_bf16 or amx_bf16${skip}`,
    () => {
      let flags = '';
      try {
        flags = readFileSync('/proc/cpuinfo', 'utf8').match(/^flags\s*:(.*)$/m)?.[1] ?? '';
      } catch {
        return; // not Linux: nothing to compare with
      }
      const listed = /\b(avx512_bf16|amx_bf16)\b/.test(flags);
      expect(support.native, `oneDNN ISA ${support.isa}, cpuinfo bf16: ${listed}`).toBe(listed);
      if (support.native) expect(support.isa).toMatch(/^avx512_core_(bf16|amx)$/);
    },
  );

  it('auto picks bfloat16 only where it is native; an explicit bfloat16 runs emulated, with a note', () => {
    const native = { native: true, runs: true, isa: 'avx512_core_bf16' };
    const emulated = { native: false, runs: true, isa: 'avx512_core' };
    const none = {
      native: false,
      runs: false,
      isa: 'avx2',
      reason: 'oneDNN has no bfloat16 kernels for avx2',
    };
    expect(resolvePrecision('auto', native)).toEqual({ precision: 'bfloat16' });
    expect(resolvePrecision('auto', emulated)).toEqual({
      precision: 'float32',
      note: 'auto: no native bfloat16 (avx512_core)',
    });
    expect(resolvePrecision('bfloat16', native)).toEqual({ precision: 'bfloat16' });
    expect(resolvePrecision('bfloat16', emulated)).toEqual({
      precision: 'bfloat16',
      note: 'bfloat16 is emulated on avx512_core, slower than float32',
    });
    expect(resolvePrecision('bfloat16', none)).toEqual({
      precision: 'float32',
      note: 'bfloat16 unavailable (oneDNN has no bfloat16 kernels for avx2); using float32',
    });
    expect(resolvePrecision('float32', native)).toEqual({ precision: 'float32' });
  });

  it('bf16 weight gradients only at the geometries where oneDNN 2.6 runs them faster', () => {
    const pays = (x: [number, number, number, number], o: number, k: number, stride: number) =>
      bf16WeightGradientPays(tf.backend_util.computeConv2DInfo(x, [k, k, x[3], o], stride, 1, 'same'));
    // Measured faster in bf16 (ms per call, float32 -> bf16, idle 2-core Zen 4, 2026-12-08).
    expect(pays([144, 32, 32, 32], 32, 3, 1)).toBe(true); // 7.5 -> 5.5
    expect(pays([16, 96, 96, 64], 32, 3, 1)).toBe(true); // 18.3 -> 10.7
    expect(pays([144, 32, 32, 32], 64, 3, 2)).toBe(true); // 6.3 -> 4.6
    expect(pays([144, 16, 16, 192], 64, 3, 1)).toBe(true); // 23.2 -> 13.3
    expect(pays([64, 8, 8, 768], 256, 3, 1)).toBe(true); // 30.7 -> 20.8
    expect(pays([64, 4, 4, 512], 512, 3, 1)).toBe(true); // 11.9 -> 8.8
    expect(pays([16, 64, 64, 16], 32, 5, 2)).toBe(true); // in a training step: 3.2 -> 2.4
    // Slower in bf16: one input channel, and gradients summed over fewer than 512 positions.
    expect(pays([16, 128, 128, 1], 16, 5, 2)).toBe(false); // 0.8 -> 2.3
    expect(pays([16, 8, 8, 128], 128, 5, 2)).toBe(false); // 3.4 -> 5.5
    expect(pays([16, 8, 8, 128], 128, 3, 2)).toBe(false); // 0.5-1.0 -> 0.8-6.6
  });

  it('precisionFromEnv reads SQUID_ONEDNN_PRECISION, float32 when unset', () => {
    expect(precisionFromEnv({})).toEqual({ choice: 'float32' });
    expect(precisionFromEnv({ SQUID_ONEDNN_PRECISION: 'auto' })).toEqual({ choice: 'auto' });
    expect(precisionFromEnv({ SQUID_ONEDNN_PRECISION: 'bfloat16' })).toEqual({ choice: 'bfloat16' });
    expect(precisionFromEnv({ SQUID_ONEDNN_PRECISION: 'fp16' }).choice).toBe('float32');
  });
});

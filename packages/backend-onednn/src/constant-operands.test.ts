// A matMul operand marked constant is converted to bf16 once: the addon takes the copy as is, the
// result is the bits of the per-call conversion, and bf16 then pays for the memory-read shape.
import { initBackend, markConstant as markConstantViaBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keptCopies } from './constant-operands.js';
import {
  BF16_MIN_FLOPS,
  BF16_MIN_FLOPS_CONSTANT,
  bf16Pays,
  bf16Support,
  convParams,
  disableNativeKernels,
  enableNativeKernels,
  isConstant,
  markConstant,
  nativeAvailable,
  nativeKernelStats,
  oneDnn,
  planMatMul,
  toBf16,
} from './index.js';

const { available, reason } = nativeAvailable();
const support = bf16Support();
const runs = available && support.runs;
const skip = runs ? '' : ` [skipped: ${available ? `no bfloat16 kernels: ${support.reason}` : reason}]`;

const uniform = (n: number, seed: number) => {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
};

/** A result's values; the tensor is disposed. */
const values = (t: tf.Tensor): number[] => {
  const v = Array.from(t.dataSync());
  t.dispose();
  return v;
};

/** The addon's bf16 matMul of a and b (converting both on the call), as the kernels' reference. */
const bf16MatMul = (a: tf.Tensor2D, b: tf.Tensor2D, transposeB: boolean): number[] => {
  const { params, outShape } = planMatMul(a.shape, b.shape, false, transposeB) as {
    params: Int32Array;
    outShape: number[];
  };
  const out = new Float32Array(tf.util.sizeFromShape(outShape));
  oneDnn().matMulBf16?.(a.dataSync() as Float32Array, b.dataSync() as Float32Array, null, out, params, 0);
  return Array.from(out);
};

describe('toBf16', () => {
  it('rounds to nearest even as the addon does, keeps NaN quiet and infinities', () => {
    // 1 + 2^-8 is a tie between 1 and 1 + 2^-7: even is 1; 1 + 3·2^-8 ties up to 1 + 2^-6.
    const v = new Float32Array([1, 1 + 2 ** -8, 1 + 3 * 2 ** -8, 1 + 2 ** -8 + 2 ** -20, -2.5, 0, -0]);
    const bits = Array.from(toBf16(v));
    expect(bits).toEqual([0x3f80, 0x3f80, 0x3f82, 0x3f81, 0xc020, 0x0000, 0x8000]);
    const special = toBf16(
      new Float32Array([Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY, Number.NaN]),
    );
    expect(Array.from(special.subarray(0, 2))).toEqual([0x7f80, 0xff80]);
    expect(special[2] & 0x7fc0).toBe(0x7fc0); // a quiet NaN
    // A view into a larger buffer converts its own elements only.
    const big = new Float32Array([3, 1 + 3 * 2 ** -8, 7]);
    expect(Array.from(toBf16(big.subarray(1, 2)))).toEqual([0x3f82]);
  });
});

describe('bf16Pays with a constant operand', () => {
  it('drops the flop floor to BF16_MIN_FLOPS_CONSTANT, keeps the conversion rule', () => {
    // SQUID's smallest memory read at one image: 1×1024 · 1024×200, 0.4 MFLOP, converting q only.
    const flops = 2 * 1024 * 200;
    expect(flops).toBeLessThan(BF16_MIN_FLOPS);
    expect(flops).toBeGreaterThanOrEqual(BF16_MIN_FLOPS_CONSTANT);
    expect(bf16Pays(flops, 1024)).toBe(false);
    expect(bf16Pays(flops, 1024, true)).toBe(true);
    expect(bf16Pays(BF16_MIN_FLOPS_CONSTANT - 2, 1, true)).toBe(false);
    // Converting too much still does not pay: 400 flops per element needed at this size is 64.
    expect(bf16Pays(flops, flops / 63, true)).toBe(false);
  });
});

describe('constant matMul operands', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false });
  });
  afterAll(() => disableNativeKernels());

  it.skipIf(!runs)(`the addon takes b already in bf16 and gives the same bits${skip}`, () => {
    const [m, k, n] = [3, 40, 24];
    const a = uniform(m * k, 1);
    const b = uniform(k * n, 2);
    for (const transposeB of [false, true]) {
      const { params } = planMatMul([m, k], transposeB ? [n, k] : [k, n], false, transposeB) as {
        params: Int32Array;
      };
      const perCall = new Float32Array(m * n);
      const once = new Float32Array(m * n);
      oneDnn().matMulBf16?.(a, b, null, perCall, params, 0);
      oneDnn().matMulBf16?.(a, toBf16(b), null, once, params, 0);
      expect(Array.from(once)).toEqual(Array.from(perCall));
      // ... and it ran in bf16: float32 gives other bits.
      const f32 = new Float32Array(m * n);
      oneDnn().matMul(a, b, null, f32, params, 0);
      expect(Array.from(once)).not.toEqual(Array.from(f32));
    }
    // The float32 kernel refuses bf16 bits, and a short array is named.
    const { params } = planMatMul([m, k], [k, n], false, false) as { params: Int32Array };
    expect(() => oneDnn().matMul(a, toBf16(b), null, new Float32Array(m * n), params, 0)).toThrow(
      /b must be a Float32Array/,
    );
    expect(() =>
      oneDnn().matMulBf16?.(a, toBf16(b).subarray(1), null, new Float32Array(m * n), params, 0),
    ).toThrow(/b has 959 elements, needs 960/);
  });

  it.skipIf(!runs)(
    `a memory read runs in bf16 once its memory is marked constant, with the per-call bits${skip}`,
    async () => {
      await tf.setBackend('wasm');
      // SQUID's memory read at a small size: q [4, 4096] · M [200, 4096]ᵀ, then w [4, 200] · M.
      // Converting M on every call does not pay (≈8 flops per converted element); converting q
      // (and w) alone does (400 and 16 384).
      const q = tf.tensor2d(uniform(4 * 4096, 3), [4, 4096]);
      const memory = tf.tensor2d(uniform(200 * 4096, 4), [200, 4096]);
      const w = tf.tensor2d(uniform(4 * 200, 5), [4, 200]);
      const read = () => [values(tf.matMul(q, memory, false, true)), values(tf.matMul(w, memory))];
      enableNativeKernels({ backends: ['wasm'], precision: 'float32' });
      const f32 = read();
      enableNativeKernels({ backends: ['wasm'], precision: 'bfloat16' });
      const before = tf.memory().numTensors;
      // Unmarked: float32 kernels, the same bits as the float32 precision.
      expect(read()).toEqual(f32);

      markConstant([memory]);
      expect(isConstant(memory)).toBe(true);
      expect(isConstant(q)).toBe(false);
      const calls = nativeKernelStats()['wasm/BatchMatMul']?.native ?? 0;
      const marked = read();
      expect((nativeKernelStats()['wasm/BatchMatMul']?.native ?? 0) - calls).toBe(2);
      // The addon's bf16 matMul converting everything per call, bit for bit.
      expect(marked[0]).toEqual(bf16MatMul(q, memory, true));
      expect(marked[1]).toEqual(bf16MatMul(w, memory, false));
      expect(marked[0]).not.toEqual(f32[0]);
      // Read again from the kept copy: same bits, no tensor left behind.
      expect(read()).toEqual(marked);
      expect(tf.memory().numTensors).toBe(before);

      // A read too small for bf16 unmarked (0.4 MFLOP) runs in bf16 once its memory is marked.
      const small = tf.tensor2d(uniform(200 * 1024, 6), [200, 1024]);
      const q1 = tf.tensor2d(uniform(1024, 7), [1, 1024]);
      const logits = () => values(tf.matMul(q1, small, false, true));
      const plain = logits();
      markConstant([small]);
      const kept = logits();
      expect(kept).not.toEqual(plain);
      expect(kept).toEqual(bf16MatMul(q1, small, true));
      tf.dispose([small, q1]);

      // Under float32 the mark changes nothing.
      enableNativeKernels({ backends: ['wasm'], precision: 'float32' });
      expect(read()).toEqual(f32);
      tf.dispose([q, memory, w]);
    },
  );

  it.skipIf(!available)(
    `a constant conv filter is reordered once, with the per-call bits (kept by the kernels in bf16)${skip}`,
    async () => {
      await tf.setBackend('wasm');
      const addon = oneDnn();
      // 3×3, 64 → 64 channels on 16×16: 38 MFLOP, oneDNN reads the filter in a blocked layout.
      const x = tf.tensor4d(uniform(16 * 16 * 64, 8), [1, 16, 16, 64]);
      const filter = tf.tensor4d(uniform(9 * 64 * 64, 9), [3, 3, 64, 64]);
      const params = convParams(tf.backend_util.computeConv2DInfo(x.shape, filter.shape, 1, 1, 'same'));
      const xs = x.dataSync() as Float32Array;
      const ws = filter.dataSync() as Float32Array;
      for (const bf16 of runs ? [false, true] : [false]) {
        const fwd = bf16 ? addon.convForwardBf16 : addon.convForward;
        if (!fwd || !addon.packConvFilter) throw new Error('addon without packConvFilter');
        const perCall = new Float32Array(16 * 16 * 64);
        const kept = new Float32Array(16 * 16 * 64);
        fwd(xs, ws, null, perCall, params, 0);
        const packed = addon.packConvFilter(ws, params, bf16, 0);
        fwd(xs, packed, null, kept, params, 0);
        expect(Array.from(kept), bf16 ? 'bf16' : 'f32').toEqual(Array.from(perCall));
        // The primitive's own buffer is back for the next unkept call: the kept copy is untouched.
        const copy = packed.slice();
        fwd(xs, uniform(9 * 64 * 64, 10), null, new Float32Array(16 * 16 * 64), params, 0);
        expect(packed).toEqual(copy);
        expect(() => fwd(xs, packed.subarray(1), null, kept, params, 0)).toThrow(/kept filter has \d+ bytes/);
      }
      // Through the kernels: marking the filter leaves the result's bits alone at either precision.
      const conv = (w: tf.Tensor4D) => values(tf.conv2d(x, w, 1, 'same'));
      for (const precision of runs ? (['float32', 'bfloat16'] as const) : (['float32'] as const)) {
        enableNativeKernels({ backends: ['wasm'], precision });
        const unmarked = tf.tensor4d(ws, [3, 3, 64, 64]);
        const want = conv(unmarked);
        markConstant([filter]);
        const copies = keptCopies(filter);
        expect(conv(filter), precision).toEqual(want);
        // bfloat16 keeps one bf16 layout, made on the first call and reused on the second;
        // float32 reads the filter as is (keeping it measured slower).
        const added = precision === 'bfloat16' ? 1 : 0;
        expect(keptCopies(filter), precision).toBe(copies + added);
        expect(conv(filter), precision).toEqual(want);
        expect(keptCopies(filter), precision).toBe(copies + added);
        unmarked.dispose();
      }
      tf.dispose([x, filter]);
    },
  );

  it.skipIf(!runs)(
    `@squid-ad/backend's markConstant reaches the kernels once initBackend enabled them${skip}`,
    async () => {
      const t = tf.tensor1d([1, 2, 3]);
      disableNativeKernels();
      await initBackend({ backend: 'wasm', nativeKernels: false });
      markConstantViaBackend([t]);
      expect(isConstant(t)).toBe(false);
      await initBackend({ backend: 'wasm', precision: 'bfloat16' });
      markConstantViaBackend([t]);
      expect(isConstant(t)).toBe(true);
      t.dispose();
    },
  );
});

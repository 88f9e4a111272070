import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { Rng } from './rng.js';
import { tf } from './tf.js';
import { installWasmMatMul } from './wasm-matmul.js';
import { initWasmBackend } from './wasm-threads.js';

const rng = Rng.fromSeed(88);
const values = (shape: number[]) =>
  Float32Array.from({ length: shape.reduce((p, d) => p * d, 1) }, () => rng.normal());
const swapLast2 = (s: number[]) => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];

/** Runs `f` on fresh tensors built from `inputs` on `backend` and returns the results' values. */
async function on(
  backend: string,
  inputs: [Float32Array, number[]][],
  f: (...t: tf.Tensor[]) => tf.Tensor[],
) {
  await tf.setBackend(backend);
  return tf.tidy(() =>
    f(...inputs.map(([v, s]) => tf.tensor(v, s))).map((t) => t.dataSync() as Float32Array),
  );
}

function maxDiff(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

// [name, a shape, b shape] before transposition: batched, broadcast both ways, rank 4. Batched
// products below ~16k multiply-adds per batch go to the stock loop on purpose (see
// stockIsCheaper); the larger ones run one XNNPACK call per batch on views.
const SHAPES: [string, number[], number[]][] = [
  ['2d', [37, 53], [53, 29]],
  ['batched, small', [5, 17, 23], [5, 23, 19]],
  ['batched', [3, 40, 36], [3, 36, 30]],
  ['a batched, b shared', [4, 21, 16], [16, 13]],
  ['a shared, b batched', [40, 32], [3, 32, 24]],
  ['rank 4', [2, 3, 24, 30], [2, 3, 30, 26]],
  ['rank 4 vs shared', [2, 3, 9, 11], [11, 7]],
  // Few rows against many columns: transposed products take the swapped (bᵀ·aᵀ)ᵀ route.
  ['few rows', [2, 96], [96, 150]],
  ['few rows, batched', [3, 2, 512], [3, 512, 40]],
  ['few rows shared, b batched', [2, 512], [4, 512, 30]],
  ['few rows batched, b shared', [5, 2, 48], [48, 30]],
];

describe('wasm BatchMatMul without the slow path', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false, threads: 1 });
  });

  it('is installed once and replaces the stock kernel', () => {
    const before = tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc;
    installWasmMatMul();
    expect(tf.getKernel('BatchMatMul', 'wasm')!.kernelFunc).toBe(before);
    expect(String(before)).toContain('runFast'); // ours, not tfjs's batchMatMul
  });

  for (const [name, sa, sb] of SHAPES) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        it(`matches cpu: ${name}, transposeA=${tA}, transposeB=${tB}`, async () => {
          const a = tA ? swapLast2(sa) : sa;
          const b = tB ? swapLast2(sb) : sb;
          const inputs: [Float32Array, number[]][] = [
            [values(a), a],
            [values(b), b],
          ];
          const f = (x: tf.Tensor, y: tf.Tensor) => [tf.matMul(x, y, tA, tB)];
          const [want] = await on('cpu', inputs, f);
          const tensorsBefore = tf.memory().numTensors;
          const [got] = await on('wasm', inputs, f);
          expect(tf.memory().numTensors).toBe(tensorsBefore);
          const k = sa.at(-1)!;
          expect(maxDiff(got, want)).toBeLessThan(2e-6 * k * 4);
          expect(got.some((v) => v !== 0)).toBe(true);
        });
      }
    }
  }

  it('gradients (the transposed products autograd emits) match cpu, batched and 2-D', async () => {
    for (const [sa, sb] of [
      [
        [48, 40],
        [40, 24],
      ],
      [
        [3, 16, 12],
        [3, 12, 10],
      ],
    ]) {
      const w = sa.length === 2 ? [sa[0], sb[1]] : [sa[0], sa[1], sb[2]];
      const inputs: [Float32Array, number[]][] = [
        [values(sa), sa],
        [values(sb), sb],
        [values(w), w],
      ];
      const f = (a: tf.Tensor, b: tf.Tensor, dy: tf.Tensor) =>
        tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.matMul(x, y).mul(dy).sum())([a, b]);
      const want = await on('cpu', inputs, f);
      const got = await on('wasm', inputs, f);
      for (let i = 0; i < 2; i++) expect(maxDiff(got[i], want[i])).toBeLessThan(1e-4);
    }
  });

  it('fused matMul with bias and relu / leakyrelu / prelu matches cpu for every transpose', async () => {
    for (const activation of ['relu', 'leakyrelu', 'prelu'] as const) {
      for (const [tA, tB] of [
        [false, false],
        [true, false],
        [false, true],
        [true, true],
      ]) {
        for (const batch of [1, 3]) {
          const sa = tA ? [batch, 24, 20] : [batch, 20, 24];
          const sb = tB ? [batch, 18, 24] : [batch, 24, 18];
          const inputs: [Float32Array, number[]][] = [
            [values(sa), sa],
            [values(sb), sb],
            [values([18]), [18]],
            [values([18]).map(Math.abs), [18]],
          ];
          const f = (a: tf.Tensor, b: tf.Tensor, bias: tf.Tensor, alpha: tf.Tensor) => [
            tf.fused.matMul({
              a: a as tf.Tensor3D,
              b: b as tf.Tensor3D,
              transposeA: tA,
              transposeB: tB,
              bias,
              activation,
              preluActivationWeights: activation === 'prelu' ? alpha : undefined,
              leakyreluAlpha: 0.2,
            }),
          ];
          const [want] = await on('cpu', inputs, f);
          const [got] = await on('wasm', inputs, f);
          expect(maxDiff(got, want), `${activation} tA=${tA} tB=${tB} batch=${batch}`).toBeLessThan(1e-4);
        }
      }
    }
  });

  it('gives a row the same bits whatever the rows sharing its product (batched scoring)', async () => {
    // A memory read as the in-painting block does it, [positions, images, slots]·[positions,
    // slots, dim]: one image per call must equal its row of the batch's call. The stock loop
    // (which took up to 4 rows) and XNNPACK sum in different orders.
    const a = values([9, 6, 200]);
    const inputs: [Float32Array, number[]][] = [
      [a, [9, 6, 200]],
      [values([9, 200, 256]), [9, 200, 256]],
    ];
    const [all] = await on('wasm', inputs, (x, m) => [tf.matMul(x, m)]);
    const rows = new Uint32Array(all.buffer);
    for (let r = 0; r < 6; r++) {
      const row = Float32Array.from(
        { length: 9 * 200 },
        (_, i) => a[(Math.floor(i / 200) * 6 + r) * 200 + (i % 200)],
      );
      const [one] = await on('wasm', [[row, [9, 1, 200]], inputs[1]], (x, m) => [tf.matMul(x, m)]);
      const bits = new Uint32Array(one.buffer);
      let differ = 0;
      for (let p = 0; p < 9; p++)
        for (let j = 0; j < 256; j++) if (bits[p * 256 + j] !== rows[(p * 6 + r) * 256 + j]) differ++;
      expect(differ, `row ${r}`).toBe(0);
    }
  });

  it('keeps the stock error for non-float32 operands', async () => {
    await tf.setBackend('wasm');
    const a = tf.tensor2d([1, 2, 3, 4], [2, 2], 'int32');
    expect(() => tf.matMul(a, a)).toThrow(/non-float32|not yet supported/);
    a.dispose();
  });

  it('gives the same bytes after switching the same process to 2 threads and back', async () => {
    const inputs: [Float32Array, number[]][] = [
      [values([4, 64, 96]), [4, 64, 96]],
      [values([4, 80, 96]), [4, 80, 96]],
    ];
    const f = (a: tf.Tensor, b: tf.Tensor) => [tf.matMul(a, b, false, true)];
    const [one] = await on('wasm', inputs, f);
    expect((await initWasmBackend(2)).threads).toBe(2);
    const [two] = await on('wasm', inputs, f);
    expect((await initWasmBackend(1)).threads).toBe(1);
    const [oneAgain] = await on('wasm', inputs, f);
    expect(Buffer.from(two.buffer).equals(Buffer.from(one.buffer))).toBe(true);
    expect(Buffer.from(oneAgain.buffer).equals(Buffer.from(one.buffer))).toBe(true);
  });
});

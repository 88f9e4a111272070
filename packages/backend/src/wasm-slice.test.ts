import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { copyBox, installWasmSlice, stockWasmSlice } from './wasm-slice.js';

const iota = (shape: number[]) =>
  tf
    .range(
      0,
      shape.reduce((p, d) => p * d, 1),
      1,
      'int32',
    )
    .reshape(shape);

/** The values of `f(input)` on cpu and on wasm, each from its own copy of the input. */
async function both(shape: number[], dtype: 'float32' | 'int32' | 'bool', f: (x: tf.Tensor) => tf.Tensor[]) {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const x = iota(shape)
        .mod(dtype === 'bool' ? 2 : 1_000_003)
        .cast(dtype);
      return f(x).map((t) => ({ shape: t.shape, values: Array.from(t.dataSync()) }));
    });
  };
  return { want: await run('cpu'), got: await run('wasm') };
}

describe('wasm Slice / Unpack / SplitV without whole-input copies', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false, threads: 1 });
    installWasmSlice(); // idempotent
  });

  it('is installed by initBackend on wasm', () => {
    for (const name of ['Slice', 'Unpack', 'SplitV'] as const) {
      expect(stockWasmSlice(name)).toBeDefined();
      expect(tf.getKernel(name, 'wasm')!.kernelFunc).not.toBe(stockWasmSlice(name)!.kernelFunc);
    }
  });

  it('copyBox copies exactly the box, merging whole trailing axes into runs', () => {
    const src = Int32Array.from({ length: 2 * 3 * 4 }, (_, i) => i);
    const dst = new Int32Array(2 * 2 * 4);
    copyBox(src, [2, 3, 4], [0, 1, 0], [2, 2, 4], dst);
    expect(Array.from(dst)).toEqual([4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20, 21, 22, 23]);
    const col = new Int32Array(3);
    copyBox(src, [2, 3, 4], [1, 0, 2], [1, 3, 1], col);
    expect(Array.from(col)).toEqual([14, 18, 22]);
  });

  const cases: [string, number[], number[], number[]][] = [
    ['1-D', [10], [3], [5]],
    ['rows of 2-D', [6, 7], [2, 0], [3, 7]],
    ['block of 2-D', [6, 7], [1, 2], [4, 3]],
    ['4-D crop (conv padding)', [2, 9, 9, 3], [0, 1, 1, 0], [2, 7, 7, 3]],
    ['5-D middle axis', [2, 3, 3, 8, 5], [0, 0, 0, 2, 0], [2, 3, 3, 1, 5]],
    ['6-D everything partial', [2, 3, 4, 3, 2, 5], [1, 1, 0, 1, 0, 2], [1, 2, 3, 2, 2, 3]],
    ['size -1 to the end', [5, 6], [1, 2], [-1, -1]],
  ];
  for (const [name, shape, begin, size] of cases) {
    for (const dtype of ['float32', 'int32', 'bool'] as const) {
      it(`Slice matches cpu: ${name} (${dtype})`, async () => {
        const before = tf.memory().numTensors;
        const { want, got } = await both(shape, dtype, (x) => [tf.slice(x, begin, size)]);
        expect(got).toEqual(want);
        expect(tf.memory().numTensors).toBe(before);
      });
    }
  }

  for (const [shape, axis] of [
    [[9, 20, 16], 0],
    [[4, 5, 6], 1],
    [[4, 5, 6], -1],
    [[2, 3, 3, 8, 10], 3],
  ] as [number[], number][]) {
    it(`Unpack matches cpu: [${shape}] along axis ${axis}`, async () => {
      const { want, got } = await both(shape, 'float32', (x) => tf.unstack(x, axis));
      expect(got).toEqual(want);
      expect(got.length).toBe(shape.at(axis)!);
    });
  }

  for (const [shape, splits, axis] of [
    [[144, 8, 8, 384], [256, 128], 3],
    [[6, 5, 4], 3, 0],
    [[2, 9, 4], [2, -1, 3], 1],
  ] as [number[], number | number[], number][]) {
    it(`SplitV matches cpu: [${shape}] into ${JSON.stringify(splits)} along axis ${axis}`, async () => {
      const before = tf.memory().numTensors;
      const { want, got } = await both(shape, 'float32', (x) => tf.split(x, splits, axis));
      expect(got).toEqual(want);
      expect(got.length).toBe(Array.isArray(splits) ? splits.length : splits);
      expect(tf.memory().numTensors).toBe(before);
    });
  }

  it('runs the gradient of a channel concat (a SplitV) like cpu', async () => {
    const { want, got } = await both([2, 3, 3, 5], 'float32', (x) => [
      tf.grad((v: tf.Tensor) =>
        tf
          .concat([v, tf.mul(v, 2)], 3)
          .square()
          .sum(),
      )(x),
    ]);
    expect(got).toEqual(want);
  });

  it('slices and unstacks a gradient (Slice / Unpack inside autograd)', async () => {
    const { want, got } = await both([3, 4, 5], 'float32', (x) => [
      tf.grad((v: tf.Tensor) =>
        tf
          .unstack(v, 1)[2]
          .mul(tf.slice(v, [0, 2, 0], [3, 1, 5]).squeeze())
          .sum(),
      )(x),
    ]);
    expect(got).toEqual(want);
  });
});

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { SCALAR_BROADCAST_KERNELS, stockWasmBinary } from './wasm-binary.js';

/** `op(a, b)` on cpu and on wasm, each from its own copy of the inputs: shape and values. */
async function both(make: () => [tf.Tensor, tf.Tensor], op: (a: tf.Tensor, b: tf.Tensor) => tf.Tensor) {
  const run = async (backend: string) => {
    await tf.setBackend(backend);
    return tf.tidy(() => {
      const t = op(...make());
      return { shape: t.shape, values: t.dataSync().slice() };
    });
  };
  return { want: await run('cpu'), got: await run('wasm') };
}

describe('wasm scalar arithmetic over rows', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false, threads: 1 });
  });
  afterAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('is installed by initBackend on wasm', () => {
    for (const name of SCALAR_BROADCAST_KERNELS) {
      expect(tf.getKernel(name, 'wasm')!.kernelFunc).not.toBe(stockWasmBinary(name)!.kernelFunc);
    }
  });

  const ops: [string, (a: tf.Tensor, b: tf.Tensor) => tf.Tensor][] = [
    ['add', tf.add],
    ['sub', tf.sub],
    ['mul', tf.mul],
    ['div', tf.div],
  ];
  // Sizes (at least 65,536 elements) viewed as [R, 1024] and [R, 64], one with no row length (65,537 is prime), one too
  // small to bother, and a scalar of rank 2.
  const shapes: [number[], number[]][] = [
    [[65, 1024], []],
    [[17, 64, 61], []],
    [[65_537], []],
    [[100, 10], []],
    [
      [8, 128, 128],
      [1, 1],
    ],
  ];

  for (const [name, op] of ops) {
    it(`${name}: bit-identical to float32 arithmetic, scalar on either side, shape kept`, async () => {
      for (const [shape, scalarShape] of shapes) {
        const x = () => tf.randomUniform(shape, 0.5, 2, 'float32', 11);
        const s = () => tf.fill(scalarShape, 0.7310585);
        for (const order of ['tensor-scalar', 'scalar-tensor']) {
          const make = (): [tf.Tensor, tf.Tensor] => (order === 'tensor-scalar' ? [x(), s()] : [s(), x()]);
          const { want, got } = await both(make, op);
          expect(got.shape).toEqual(shape);
          // A loop, not toEqual: this compares ~66k floats 40 times.
          let differ = 0;
          for (let i = 0; i < want.values.length; i++)
            if (!Object.is(got.values[i], want.values[i])) differ++;
          expect(got.values.length).toBe(want.values.length);
          expect(differ).toBe(0);
        }
      }
    });
  }

  it('leaves int32 and same-shape operands to the stock kernel, and leaks nothing', async () => {
    await tf.setBackend('wasm');
    const before = tf.memory().numTensors;
    const ints = tf.tidy(() =>
      tf
        .mul(tf.range(0, 1 << 17, 1, 'int32'), tf.scalar(3, 'int32'))
        .dataSync()
        .slice(),
    );
    expect(ints[5]).toBe(15);
    const same = tf.tidy(() => tf.add(tf.ones([1 << 17]), tf.ones([1 << 17])).dataSync()[7]);
    expect(same).toBe(2);
    tf.tidy(() => tf.mul(tf.ones([300, 1024]), 2).dataSync());
    expect(tf.memory().numTensors).toBe(before);
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';
import { registerWasmTrainingKernels, stockWasmKernel, wasmTrainingKernelNames } from './wasm-kernels.js';

type Pad = 'same' | 'valid' | [[0, 0], [number, number], [number, number], [0, 0]];
type Case = {
  x: [number, number, number, number];
  k: [number, number];
  co: number;
  s: number | [number, number];
  pad: Pad;
};

const pads = (t: number, b: number, l: number, r: number): Pad => [
  [0, 0],
  [t, b],
  [l, r],
  [0, 0],
];

// Kernel 1/3/5 (and even 4, non-square), stride 1/2/3 (and mixed), same/valid/explicit
// (symmetric PyTorch-style and asymmetric), batch 1 and >1, channels 1 and >1, odd/even sizes.
const CASES: Case[] = [
  { x: [1, 8, 8, 1], k: [3, 3], co: 1, s: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: [3, 3], co: 4, s: 1, pad: 'same' },
  { x: [2, 9, 7, 3], k: [3, 3], co: 4, s: 1, pad: 'valid' },
  { x: [3, 8, 8, 4], k: [1, 1], co: 5, s: 1, pad: 'valid' },
  { x: [2, 10, 10, 2], k: [5, 5], co: 3, s: 1, pad: 'same' },
  { x: [2, 8, 8, 3], k: [3, 3], co: 4, s: 2, pad: 'same' },
  { x: [2, 9, 9, 3], k: [3, 3], co: 4, s: 2, pad: 'same' },
  { x: [1, 9, 7, 1], k: [3, 3], co: 1, s: 2, pad: 'valid' },
  { x: [2, 10, 10, 3], k: [3, 3], co: 4, s: 2, pad: pads(1, 1, 1, 1) },
  { x: [2, 11, 11, 2], k: [3, 3], co: 3, s: 2, pad: pads(1, 1, 1, 1) },
  { x: [2, 16, 16, 2], k: [5, 5], co: 3, s: 2, pad: pads(2, 2, 2, 2) },
  { x: [1, 15, 13, 2], k: [5, 5], co: 2, s: 2, pad: 'valid' },
  { x: [2, 10, 11, 3], k: [4, 4], co: 4, s: 2, pad: pads(1, 2, 0, 3) },
  { x: [3, 6, 6, 2], k: [1, 1], co: 5, s: 2, pad: 'valid' },
  { x: [2, 5, 6, 3], k: [1, 1], co: 2, s: 1, pad: pads(0, 1, 0, 2) },
  { x: [2, 7, 6, 3], k: [1, 1], co: 2, s: 2, pad: pads(1, 1, 0, 1) },
  { x: [2, 12, 12, 3], k: [3, 3], co: 2, s: 3, pad: 'same' },
  { x: [1, 11, 10, 1], k: [5, 5], co: 2, s: 3, pad: 'valid' },
  { x: [2, 13, 12, 2], k: [3, 5], co: 3, s: [1, 2], pad: pads(0, 2, 2, 1) },
  { x: [2, 9, 9, 2], k: [2, 3], co: 3, s: [3, 1], pad: 'same' },
];

/** Conv gradients of sum(conv(x, f) · w) for fixed random x, f, w on `backend`. */
async function convGrads(backend: string, c: Case): Promise<{ dx: Float32Array; df: Float32Array }> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal([...c.k, c.x[3], c.co], 0, 1, 'float32', 2) as tf.Tensor4D;
    const yShape = tf.conv2d(x, f, c.s, c.pad).shape;
    const w = tf.randomNormal(yShape, 0, 1, 'float32', 3);
    const [dx, df] = tf.grads((a: tf.Tensor, b: tf.Tensor) =>
      tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.s, c.pad), w)),
    )([x, f]);
    return { dx: dx.dataSync() as Float32Array, df: df.dataSync() as Float32Array };
  });
}

/** max |a − b| / max |b|. */
function relError(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return num / den;
}

describe('wasm conv2d gradient kernels', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', threads: 1, nativeKernels: false });
  });

  it('replaces Conv2DBackpropInput and adds Conv2DBackpropFilter, idempotently', () => {
    const filter = tf.getKernel('Conv2DBackpropFilter', 'wasm');
    const input = tf.getKernel('Conv2DBackpropInput', 'wasm');
    expect(filter).toBeDefined();
    expect(stockWasmKernel('Conv2DBackpropInput')).toBeDefined();
    expect(input).not.toBe(stockWasmKernel('Conv2DBackpropInput'));
    registerWasmTrainingKernels();
    expect(wasmTrainingKernelNames()).toEqual([
      'Conv2DBackpropFilter',
      'Conv2DBackpropInput',
      'Identity',
      'UnsortedSegmentSum',
      'DepthwiseConv2dNativeBackpropFilter',
      'DepthwiseConv2dNativeBackpropInput',
      'Einsum',
      'MaxPoolGrad',
      'ResizeNearestNeighborGrad',
    ]);
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBe(filter);
    expect(tf.getKernel('Conv2DBackpropInput', 'wasm')).toBe(input);
  });

  it.each(CASES)('equals cpu for x=$x k=$k co=$co s=$s pad=$pad', async (c) => {
    const wasm = await convGrads('wasm', c);
    const cpu = await convGrads('cpu', c);
    await tf.setBackend('wasm');
    expect(relError(wasm.dx, cpu.dx)).toBeLessThan(1e-4);
    expect(relError(wasm.df, cpu.df)).toBeLessThan(1e-4);
    // Guard against a vacuous comparison: the gradients are not all zero.
    expect(Math.max(...cpu.df.map(Math.abs))).toBeGreaterThan(0.1);
  });

  it('rejects dilation > 1 with a clear error', () => {
    const x = tf.ones([1, 8, 8, 2]) as tf.Tensor4D;
    const f = tf.ones([3, 3, 2, 2]) as tf.Tensor4D;
    expect(() =>
      tf.grad((a: tf.Tensor) => tf.conv2d(a as tf.Tensor4D, f, 1, 'same', 'NHWC', 2).sum())(x),
    ).toThrow(/dilation/);
    const dy = tf.ones([1, 8, 8, 2]);
    const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dilations: 2 };
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: [3, 3, 2, 2] }),
    ).toThrow(/Conv2DBackpropFilter: dilation 2 > 1 is not supported/);
    expect(() =>
      tf.engine().runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: [1, 8, 8, 2] }),
    ).toThrow(/Conv2DBackpropInput: dilation 2 > 1 is not supported/);
    tf.dispose([x, f, dy]);
  });

  it('leaves no tensor or wasm buffer behind', () => {
    const x = tf.randomNormal([2, 9, 9, 3]) as tf.Tensor4D;
    const f = tf.randomNormal([3, 3, 3, 4]) as tf.Tensor4D;
    const p = tf.randomNormal([1, 1, 4, 2]) as tf.Tensor4D; // 1×1: the GEMM path
    const net = (a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) =>
      tf.conv2d(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 2, 'same'), c as tf.Tensor4D, 1, 'valid');
    const step = () =>
      tf.tidy(() => {
        const grads = tf.grads((a: tf.Tensor, b: tf.Tensor, c: tf.Tensor) => net(a, b, c).square().sum())([
          x,
          f,
          p,
        ]);
        return tf.addN(grads.map((g) => g.sum())).dataSync()[0];
      });
    step();
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    for (let i = 0; i < 3; i++) step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    tf.dispose([x, f, p]);
  });
});

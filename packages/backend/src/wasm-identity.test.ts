import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { measurePeakMemory } from './peak-memory.js';
import { tf } from './tf.js';
import { stockWasmKernel } from './wasm-kernels.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm', threads: 1, nativeKernels: false });
});

describe('wasm Identity', () => {
  it('clones share the buffer, which lives until the last handle is gone', () => {
    const x = tf.tensor1d([1, 2, 3]);
    const { result: y, peakBytes } = measurePeakMemory(() => x.clone());
    expect(peakBytes).toBe(0);
    x.dispose();
    expect(Array.from(y.dataSync())).toEqual([1, 2, 3]);
    const z = tf.add(y, 1);
    y.dispose();
    expect(Array.from(z.dataSync())).toEqual([2, 3, 4]);
    z.dispose();
  });

  it('a tensor saved for backprop is not copied, and a variable update leaves it intact', () => {
    const n = 100_000;
    const unit = n * 4;
    const w = tf.variable(tf.fill([n], 2));
    const x = tf.fill([n], 3);
    // Mul saves both of its inputs.
    const step = () => measurePeakMemory(() => tf.variableGrads(() => tf.sum(tf.mul(x, w)) as tf.Scalar));
    const shared = step();
    const ours = tf.getKernel('Identity', 'wasm')!;
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(stockWasmKernel('Identity')!);
    const copied = step();
    tf.unregisterKernel('Identity', 'wasm');
    tf.registerKernel(ours);
    expect((copied.peakBytes - shared.peakBytes) / unit).toBeCloseTo(2, 3);
    expect(shared.result.grads[w.name].dataSync()[0]).toBe(3);
    w.assign(tf.fill([n], 0));
    expect(x.dataSync()[n - 1]).toBe(3);
    for (const r of [shared, copied]) tf.dispose([r.result.value, ...Object.values(r.result.grads)]);
    tf.dispose([w, x]);
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import {
  defaultThreads,
  nativeAvailable,
  nativeKernelStats,
  nativeKernelsStatus,
  wasmThreadsOf,
} from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

describe('native kernels on a threaded wasm backend', () => {
  it.skipIf(!available)(`work on the shared wasm heap and leave the wasm pool its cores${skip}`, async () => {
    // Two wasm threads: the heap becomes a SharedArrayBuffer (when @squid-ad/backend can start
    // wasm threads in Node), which the addon must read and write in place just the same.
    process.env.SQUID_THREADS = '2';
    const report = await initBackend({ backend: 'wasm' });
    expect(report.nativeKernels).toEqual({ enabled: true });
    const wasmThreads = wasmThreadsOf(tf.backend());
    expect(nativeKernelsStatus().threads).toBe(defaultThreads(wasmThreads));

    const rng = Rng.fromSeed(4);
    const xs = Float32Array.from({ length: 4 * 9 * 9 * 5 }, () => rng.uniform(-1, 1));
    const ws = Float32Array.from({ length: 3 * 3 * 5 * 6 }, () => rng.uniform(-1, 1));
    const run = () =>
      tf.tidy(() => {
        const f = (x: tf.Tensor, w: tf.Tensor) =>
          tf
            .conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 2, 'same')
            .square()
            .sum();
        const [gx, gw] = tf.grads(f)([tf.tensor4d(xs, [4, 9, 9, 5]), tf.tensor4d(ws, [3, 3, 5, 6])]);
        return [gx.dataSync() as Float32Array, gw.dataSync() as Float32Array];
      });
    const before = nativeKernelStats()['wasm/Conv2DBackpropFilter']?.native ?? 0;
    const native = run();
    expect(nativeKernelStats()['wasm/Conv2DBackpropFilter'].native).toBe(before + 1);
    await tf.setBackend('cpu');
    const ref = run();
    for (let i = 0; i < 2; i++) {
      let diff = 0;
      let scale = 0;
      for (let j = 0; j < ref[i].length; j++) {
        diff = Math.max(diff, Math.abs(native[i][j] - ref[i][j]));
        scale = Math.max(scale, Math.abs(ref[i][j]));
      }
      expect(diff / scale).toBeLessThan(1e-5);
    }
  });
});

import { initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bf16Support,
  disableNativeKernels,
  nativeAvailable,
  nativeKernelStats,
  nativeKernelsStatus,
} from './index.js';

const { available, reason } = nativeAvailable();

describe('initBackend picks up @squid-ad/backend-onednn', () => {
  afterAll(() => disableNativeKernels());

  it(`reports the native kernels on wasm (${available ? 'addon built' : `addon missing: ${reason}`})`, async () => {
    const report = await initBackend({ backend: 'wasm' });
    if (available) {
      expect(report.nativeKernels).toEqual({ enabled: true });
      expect(nativeKernelsStatus().backends).toContain('wasm');
      // The wasm Conv2D now runs through oneDNN.
      const before = nativeKernelStats()['wasm/Conv2D']?.native ?? 0;
      tf.tidy(() =>
        tf.conv2d(tf.ones([1, 4, 4, 2]) as tf.Tensor4D, tf.ones([3, 3, 2, 2]) as tf.Tensor4D, 1, 'same'),
      );
      expect(nativeKernelStats()['wasm/Conv2D'].native).toBe(before + 1);
    } else {
      expect(report.nativeKernels).toEqual({ enabled: false, reason });
    }
  });

  it('passes the precision through and reports it (bfloat16 only with the kernels on a bf16 CPU)', async () => {
    const f32 = await initBackend({ backend: 'wasm', precision: 'float32' });
    expect(f32.precision).toBe('float32');
    const bf16 = bf16Support();
    const asked = await initBackend({ backend: 'wasm', precision: 'bfloat16' });
    expect(asked.precision).toBe(available && bf16.runs ? 'bfloat16' : 'float32');
    if (available) expect(nativeKernelsStatus().precision).toBe(asked.precision);
    const auto = await initBackend({ backend: 'wasm', precision: 'auto' });
    expect(auto.precision).toBe(available && bf16.native ? 'bfloat16' : 'float32');
    const off = await initBackend({ backend: 'wasm', nativeKernels: false, precision: 'bfloat16' });
    expect(off).toMatchObject({
      precision: 'float32',
      precisionNote: 'bfloat16 needs the oneDNN kernels; computing in float32',
    });
    await initBackend({ backend: 'wasm', precision: 'float32' });
  });

  it('can be switched off per call', async () => {
    const report = await initBackend({ backend: 'cpu', nativeKernels: false });
    expect(report.nativeKernels.enabled).toBe(false);
    expect(report.nativeKernels.reason).toMatch(/disabled/);
  });
});

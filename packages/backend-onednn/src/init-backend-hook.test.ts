import { initBackend, tf } from '@squid-ad/backend';
import { afterAll, describe, expect, it } from 'vitest';
import { disableNativeKernels, nativeAvailable, nativeKernelStats, nativeKernelsStatus } from './index.js';

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

  it('can be switched off per call', async () => {
    const report = await initBackend({ backend: 'cpu', nativeKernels: false });
    expect(report.nativeKernels.enabled).toBe(false);
    expect(report.nativeKernels.reason).toMatch(/disabled/);
  });
});

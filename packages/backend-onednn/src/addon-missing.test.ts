import { initBackend, tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { enableNativeKernels, nativeAvailable, oneDnn } from './index.js';

describe('without the addon (SQUID_ONEDNN=0)', () => {
  it('initBackend and enable report why, register nothing, and TF.js keeps computing', async () => {
    process.env.SQUID_ONEDNN = '0';
    const report = await initBackend({ backend: 'cpu' });
    expect(report.nativeKernels).toEqual({ enabled: false, reason: 'disabled by SQUID_ONEDNN=0' });
    const original = tf.getKernel('Conv2D', 'cpu');
    expect(nativeAvailable()).toEqual({ available: false, reason: 'disabled by SQUID_ONEDNN=0' });
    const status = enableNativeKernels();
    expect(status).toMatchObject({ enabled: false, reason: 'disabled by SQUID_ONEDNN=0' });
    expect(tf.getKernel('Conv2D', 'cpu')).toBe(original);
    expect(() => oneDnn()).toThrow(/SQUID_ONEDNN=0/);
    const y = tf.tidy(() =>
      tf.conv2d(tf.ones([1, 3, 3, 1]) as tf.Tensor4D, tf.ones([3, 3, 1, 1]) as tf.Tensor4D, 1, 'valid'),
    );
    expect(Array.from(y.dataSync())).toEqual([9]);
    y.dispose();
  });
});

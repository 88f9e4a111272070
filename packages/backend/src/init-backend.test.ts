import { describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { tf } from './tf.js';

describe('initBackend', () => {
  it('auto falls back past the missing native backends to wasm and says why', async () => {
    const report = await initBackend({ backend: 'auto' });
    // tfjs-node(-gpu) cannot download libtensorflow here, so they must be skipped with a reason.
    if (report.backend === 'wasm') {
      expect(report.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'tensorflow']);
      for (const s of report.skipped) expect(s.reason.length).toBeGreaterThan(3);
    }
    expect(tf.getBackend()).toBe(report.tfBackend);
    expect(tf.add(tf.scalar(2), tf.scalar(3)).dataSync()[0]).toBe(5);
  });

  it('selects cpu when asked', async () => {
    const report = await initBackend({ backend: 'cpu' });
    expect(report).toMatchObject({ backend: 'cpu', tfBackend: 'cpu', skipped: [] });
  });

  it('rejects an unknown SQUID_BACKEND with the valid choices', async () => {
    process.env.SQUID_BACKEND = 'cuda';
    await expect(initBackend()).rejects.toThrow(/unknown backend "cuda".*auto, tensorflow-gpu/);
    delete process.env.SQUID_BACKEND;
  });
});

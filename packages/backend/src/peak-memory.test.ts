import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { measurePeakMemory } from './peak-memory.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('measurePeakMemory', () => {
  it('counts each buffer once, however many tensors share it', () => {
    const { peakBytes, endBytes, result } = measurePeakMemory(() => {
      const a = tf.zeros([1000]); // 4000 bytes
      const views = [a.clone(), a.reshape([10, 100]), tf.keep(a.clone())];
      const b = tf.add(a, a); // 4000 more
      tf.dispose([a, b, ...views.slice(0, 2)]);
      return views[2];
    });
    expect(peakBytes).toBe(8000);
    expect(endBytes).toBe(4000);
    result.dispose();
  });

  it('sees memory freed that was allocated before, as a negative end', () => {
    const a = tf.zeros([250]);
    expect(measurePeakMemory(() => a.dispose())).toMatchObject({ peakBytes: 0, endBytes: -1000 });
  });
});

import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { kernelProfile } from './kernel-profile.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('kernelProfile', () => {
  it('counts calls per kernel, most expensive first, shares summing to 1', async () => {
    const a = tf.ones([64, 64]);
    const lines = await kernelProfile(() =>
      tf.tidy(() => {
        let x = tf.matMul(a, a);
        for (let i = 0; i < 3; i++) x = tf.add(x, a);
        return x;
      }),
    );
    const calls = Object.fromEntries(lines.map((l) => [l.kernel, l.calls]));
    expect(calls).toMatchObject({ BatchMatMul: 1, Add: 3 });
    expect(lines.map((l) => l.ms)).toEqual([...lines.map((l) => l.ms)].sort((x, y) => y - x));
    expect(lines.reduce((s, l) => s + l.share, 0)).toBeCloseTo(1, 2);
    a.dispose();
  });
});

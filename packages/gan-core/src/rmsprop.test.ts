import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { RMSprop } from './rmsprop.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** TF 1.x ApplyRMSProp written out in float64: mean square starting at one. */
function referenceRMSprop(
  p0: number[],
  grads: number[][],
  o: { lr: number; decay: number; momentum: number; epsilon: number },
): number[] {
  const p = [...p0];
  const ms = p.map(() => 1);
  const mom = p.map(() => 0);
  for (const gs of grads) {
    for (let i = 0; i < p.length; i++) {
      ms[i] += (gs[i] * gs[i] - ms[i]) * (1 - o.decay);
      mom[i] = mom[i] * o.momentum + (o.lr * gs[i]) / Math.sqrt(ms[i] + o.epsilon);
      p[i] -= mom[i];
    }
  }
  return p;
}

describe('RMSprop (TF 1.x semantics)', () => {
  it('matches a hand-computed first step: the mean square starts at one', () => {
    // p = 1, g = 2, lr 0.1, decay 0.9: ms = 1 + (4 − 1)·0.1 = 1.3; p = 1 − 0.1·2/√1.3 = 0.824593...
    // (a zero-initialised mean square would give ms = 0.4 and p = 0.68377...)
    const w = tf.variable(tf.tensor1d([1]));
    const opt = new RMSprop([{ name: 'w', variable: w }], { lr: 0.1 });
    opt.update({ [w.name]: tf.tensor1d([2]) });
    expect(w.dataSync()[0]).toBeCloseTo(1 - 0.2 / Math.sqrt(1.3), 6);
    const rms = opt.state().find((e) => e.name === 'rms.w')!;
    expect(rms.variable.dataSync()[0]).toBeCloseTo(1.3, 6);
    opt.dispose();
    w.dispose();
  });

  it('follows the reference over several steps, with and without momentum', () => {
    const p0 = [0.3, -1.2, 0.05, 4];
    const grads = [
      [0.1, -0.2, 0.3, 1.5],
      [-0.4, 0.25, 0, 2],
      [0.05, -0.01, -0.3, 0.7],
    ];
    for (const momentum of [0, 0.5]) {
      const o = { lr: 5e-2, decay: 0.9, momentum, epsilon: 1e-10 };
      const w = tf.variable(tf.tensor1d(p0));
      const opt = new RMSprop([{ name: 'w', variable: w }], o);
      for (const g of grads) tf.tidy(() => opt.update({ [w.name]: tf.tensor1d(g) }));
      const expected = referenceRMSprop(p0, grads, o);
      const got = w.dataSync();
      for (const [i, e] of expected.entries()) expect(got[i]).toBeCloseTo(e, 6);
      // The reference really moved the weights (the comparison is not between constants).
      expect(Math.abs(expected[3] - p0[3])).toBeGreaterThan(0.05);
      opt.dispose();
      w.dispose();
    }
  });

  it('leaves parameters without a gradient untouched and leaks no tensors', () => {
    const a = tf.variable(tf.tensor1d([1, 2]));
    const b = tf.variable(tf.tensor1d([3]));
    const opt = new RMSprop([
      { name: 'a', variable: a },
      { name: 'b', variable: b },
    ]);
    const g = tf.tensor1d([0.5, -0.5]);
    const before = tf.memory().numTensors;
    opt.update({ [a.name]: g });
    expect(tf.memory().numTensors).toBe(before);
    expect(b.dataSync()[0]).toBe(3);
    expect(a.dataSync()[0]).toBeLessThan(1);
    expect(opt.state().map((e) => e.name)).toEqual(['rms.a', 'momentum.a', 'rms.b', 'momentum.b']);
    expect(() => new RMSprop([{ name: 'a', variable: a }], { decay: 1 })).toThrow(/decay/);
    g.dispose();
    opt.dispose();
    a.dispose();
    b.dispose();
  });
});

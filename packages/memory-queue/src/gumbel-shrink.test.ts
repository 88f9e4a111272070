import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { gumbelShrink, shrinkMode } from './gumbel-shrink.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const softmax = (w: number[]): number[] => {
  const m = Math.max(...w);
  const e = w.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
};

/** Float64 reference of the official top-k shrinkage on one row. */
function topKRef(w: number[], k: number): number[] {
  const y = softmax(w);
  const t = [...y].sort((a, b) => b - a)[k - 1];
  const h = y.map((v) => (Math.max(v - t, 0) * v) / (Math.abs(v - t) + 1e-12));
  const s = h.reduce((a, b) => a + Math.abs(b), 0);
  return h.map((v) => v / Math.max(s, 1e-12));
}

/** Float64 reference of hard shrinkage + L1 normalisation on one row. */
function hardRef(w: number[], lambda: number): number[] {
  const h = w.map((v) => (Math.max(v - lambda, 0) * v) / (Math.abs(v - lambda) + 1e-12));
  const s = h.reduce((a, b) => a + Math.abs(b), 0);
  return h.map((v) => v / Math.max(s, 1e-12));
}

const LOGITS = [
  [0.3, -1.2, 2.0, 0.9, 1.7, -0.4, 0.05, 1.1],
  [-0.7, 0.2, 0.25, -2.0, 0.6, 1.4, -0.1, 0.8],
];
const G = [
  [0.5, -1.0, 0.25, 2.0, -0.75, 1.5, 0.1, -0.3],
  [1.2, 0.4, -0.6, 0.9, -1.1, 0.3, 0.7, -0.2],
];

describe('shrinkMode', () => {
  it('reads integers as top-k, other positive numbers as hard shrinkage, 0 as none', () => {
    expect(shrinkMode(5)).toBe('top-k');
    expect(shrinkMode(0.0025)).toBe('hard');
    expect(shrinkMode(0)).toBe('none');
    expect(() => shrinkMode(-1)).toThrow(/≥ 0/);
  });
});

describe('gumbelShrink top-k', () => {
  it('keeps the k−1 entries strictly above the k-th softmax value, L1-normalised', () => {
    const out = gumbelShrink(tf.tensor2d(LOGITS), 4).arraySync();
    for (let r = 0; r < LOGITS.length; r++) {
      const ref = topKRef(LOGITS[r], 4);
      expect(out[r].filter((v) => v !== 0)).toHaveLength(3);
      out[r].forEach((v, i) => {
        expect(v).toBeCloseTo(ref[i], 6);
      });
      expect(out[r].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    }
    // Row 0: the 3 largest logits are 2.0, 1.7, 1.1 (indices 2, 4, 7).
    expect(out[0].map((v) => v > 0)).toEqual([false, false, true, false, true, false, false, true]);
  });

  it('has the softmax gradient (straight-through), checked by central finite differences', () => {
    const k = 3;
    const g = tf.tensor2d(G);
    const grad = tf.grad((w: tf.Tensor) => tf.sum(tf.mul(gumbelShrink(w as tf.Tensor2D, k), g)))(
      tf.tensor2d(LOGITS),
    );
    const ours = grad.arraySync() as number[][];
    // The straight-through surrogate is Σ g·softmax(w): differentiate it numerically in float64.
    const eps = 1e-5;
    const loss = (w: number[], r: number) => softmax(w).reduce((a, v, i) => a + v * G[r][i], 0);
    for (let r = 0; r < LOGITS.length; r++) {
      for (let i = 0; i < LOGITS[r].length; i++) {
        const plus = [...LOGITS[r]];
        const minus = [...LOGITS[r]];
        plus[i] += eps;
        minus[i] -= eps;
        const fd = (loss(plus, r) - loss(minus, r)) / (2 * eps);
        expect(Math.abs(ours[r][i] - fd)).toBeLessThan(1e-6 + 1e-4 * Math.abs(fd));
      }
    }
    // …which is not the gradient of the forward value: the dropped entries still get gradient.
    const shrunk = gumbelShrink(tf.tensor2d(LOGITS), k).arraySync();
    const dropped = shrunk[0].indexOf(0);
    expect(Math.abs(ours[0][dropped])).toBeGreaterThan(1e-3);
  });
});

describe('gumbelShrink hard (float threshold)', () => {
  const lambda = 0.35;

  it('shrinks the raw logits below λ to zero and L1-normalises the rest', () => {
    const out = gumbelShrink(tf.tensor2d(LOGITS), lambda).arraySync();
    for (let r = 0; r < LOGITS.length; r++) {
      const ref = hardRef(LOGITS[r], lambda);
      out[r].forEach((v, i) => {
        expect(v).toBeCloseTo(ref[i], 6);
      });
      LOGITS[r].forEach((w, i) => {
        if (w <= lambda) expect(Math.abs(out[r][i])).toBe(0);
      });
    }
  });

  it('is differentiated as written (finite differences of the actual function)', () => {
    const g = tf.tensor2d(G);
    const ours = tf
      .grad((w: tf.Tensor) => tf.sum(tf.mul(gumbelShrink(w as tf.Tensor2D, lambda), g)))(tf.tensor2d(LOGITS))
      .arraySync() as number[][];
    const eps = 1e-5;
    const loss = (w: number[], r: number) => hardRef(w, lambda).reduce((a, v, i) => a + v * G[r][i], 0);
    let checked = 0;
    for (let r = 0; r < LOGITS.length; r++) {
      for (let i = 0; i < LOGITS[r].length; i++) {
        const plus = [...LOGITS[r]];
        const minus = [...LOGITS[r]];
        plus[i] += eps;
        minus[i] -= eps;
        const fd = (loss(plus, r) - loss(minus, r)) / (2 * eps);
        expect(Math.abs(ours[r][i] - fd)).toBeLessThan(1e-5 + 1e-3 * Math.abs(fd));
        if (Math.abs(fd) > 1e-3) checked++;
      }
    }
    expect(checked).toBeGreaterThan(6);
  });
});

describe('gumbelShrink', () => {
  it('leaves the logits unchanged with shrink 0 and rejects k > slots', () => {
    expect(gumbelShrink(tf.tensor2d(LOGITS), 0).arraySync()).toEqual(tf.tensor2d(LOGITS).arraySync());
    expect(() => gumbelShrink(tf.tensor2d(LOGITS), 9)).toThrow(/at least k slots/);
  });

  it('does not leak tensors over forward and backward passes', () => {
    const w = tf.tensor2d(LOGITS);
    const run = () =>
      tf.tidy(() => {
        const g = tf.grad((x: tf.Tensor) => tf.sum(tf.square(gumbelShrink(x as tf.Tensor2D, 5))))(w);
        g.dataSync();
      });
    run();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 3; i++) run();
    expect(tf.memory().numTensors).toBe(before);
  });
});

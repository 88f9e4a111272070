import { describe, expect, it } from 'vitest';
import { confusionAt, metricsAt } from './confusion.js';
import { seededRandom } from './random.js';
import { selectThreshold } from './threshold.js';

const Y = [0, 0, 1, 1];
const S = [0.1, 0.4, 0.35, 0.8];

describe('metricsAt', () => {
  it('counts score >= threshold as anomalous', () => {
    // flagged: 0.4 (normal), 0.35 and 0.8 (anomalous) → tp 2, fp 1, tn 1, fn 0
    const m = metricsAt(Y, S, 0.35);
    expect(m).toMatchObject({ tp: 2, fp: 1, tn: 1, fn: 0, threshold: 0.35 });
    expect(m.accuracy).toBe(0.75);
    expect(m.precision).toBeCloseTo(2 / 3, 15);
    expect(m.recall).toBe(1);
    expect(m.f1).toBeCloseTo(0.8, 15); // 2·2 / (2·2 + 1 + 0)
    expect(m.specificity).toBe(0.5);
  });

  it('returns 0 for undefined ratios (sklearn zero_division=0)', () => {
    const m = metricsAt(Y, S, Number.POSITIVE_INFINITY);
    expect(m).toMatchObject({ tp: 0, fp: 0, tn: 2, fn: 2, precision: 0, recall: 0, f1: 0, specificity: 1 });
    expect(m.accuracy).toBe(0.5);
  });

  it('works with one class (threshold metrics are defined without both classes)', () => {
    expect(confusionAt([0, 0, 0], [0.1, 0.5, 0.9], 0.5)).toEqual({ tp: 0, fp: 2, tn: 1, fn: 0 });
  });
});

describe('selectThreshold', () => {
  // candidates (threshold: tp fp): inf 0 0 | 0.8 1 0 | 0.4 1 1 | 0.35 2 1 | 0.1 2 2
  it('max-accuracy picks the highest of the tied best thresholds (np.argmax order)', () => {
    const t = selectThreshold(Y, S, { method: 'max-accuracy' });
    expect(t.threshold).toBe(0.8); // acc 0.75 at 0.8 and at 0.35
    expect(t.accuracy).toBe(0.75);
    expect(t.method).toBe('max-accuracy');
  });

  it('max-f1 picks 0.35 (F1 0.8 vs 2/3 elsewhere)', () => {
    const t = selectThreshold(Y, S, { method: 'max-f1' });
    expect(t.threshold).toBe(0.35);
    expect(t.f1).toBeCloseTo(0.8, 15);
  });

  it('youden maximises sensitivity + specificity − 1 (J = 0.5 at 0.8 and 0.35 → 0.8)', () => {
    const t = selectThreshold(Y, S, { method: 'youden' });
    expect(t.threshold).toBe(0.8);
    expect(t.recall + t.specificity - 1).toBe(0.5);
  });

  it('sensitivity picks the highest threshold reaching the target', () => {
    expect(selectThreshold(Y, S, { method: 'sensitivity', targetSensitivity: 1 }).threshold).toBe(0.35);
    expect(selectThreshold(Y, S, { method: 'sensitivity', targetSensitivity: 0.5 }).threshold).toBe(0.8);
    expect(selectThreshold(Y, S, { method: 'sensitivity', targetSensitivity: 0.51 }).threshold).toBe(0.35);
    expect(() => selectThreshold(Y, S, { method: 'sensitivity' })).toThrow(/targetSensitivity/);
    expect(() => selectThreshold(Y, S, { method: 'sensitivity', targetSensitivity: 0 })).toThrow(
      /targetSensitivity/,
    );
  });

  it('reaches the best accuracy of an exhaustive search over all thresholds', () => {
    const random = seededRandom(11);
    for (let trial = 0; trial < 10; trial++) {
      const y = Array.from({ length: 40 }, (_, i) => (i < 2 ? i : random() < 0.5 ? 1 : 0));
      const s = y.map((v) => Math.round((random() + 0.4 * v) * 20) / 20);
      let bestAcc = 0;
      let bestF1 = 0;
      for (const t of [...s, Number.POSITIVE_INFINITY]) {
        bestAcc = Math.max(bestAcc, metricsAt(y, s, t).accuracy);
        bestF1 = Math.max(bestF1, metricsAt(y, s, t).f1);
      }
      const a = selectThreshold(y, s, { method: 'max-accuracy' });
      expect(a.accuracy).toBe(bestAcc);
      // the counts it reports are those of applying its threshold
      expect(metricsAt(y, s, a.threshold).accuracy).toBe(a.accuracy);
      expect(selectThreshold(y, s, { method: 'max-f1' }).f1).toBeCloseTo(bestF1, 15);
    }
  });

  it('throws with one class or an unknown method', () => {
    expect(() => selectThreshold([1, 1], [0.1, 0.2], { method: 'max-f1' })).toThrow(/only one class/);
    // @ts-expect-error invalid method on purpose
    expect(() => selectThreshold(Y, S, { method: 'median' })).toThrow(/unknown method 'median'/);
  });
});

import { describe, expect, it } from 'vitest';
import { seededRandom } from './random.js';
import { rocAuc, rocCurve, trapezoid } from './roc.js';

// Mann-Whitney U / (n1 n0) with ties counted half: the definition ROC AUC must equal.
function mannWhitneyAuc(y: number[], s: number[]): number {
  let u = 0;
  let pairs = 0;
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 1) continue;
    for (let j = 0; j < y.length; j++) {
      if (y[j] !== 0) continue;
      pairs++;
      u += s[i] > s[j] ? 1 : s[i] === s[j] ? 0.5 : 0;
    }
  }
  return u / pairs;
}

describe('rocCurve', () => {
  it('matches the scikit-learn roc_curve docs example', () => {
    // sklearn docs: y = [1, 1, 2, 2], scores = [0.1, 0.4, 0.35, 0.8], pos_label=2 →
    // fpr [0, 0, 0.5, 0.5, 1], tpr [0, 0.5, 0.5, 1, 1], thresholds [inf, 0.8, 0.4, 0.35, 0.1]
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(roc.fpr).toEqual([0, 0, 0.5, 0.5, 1]);
    expect(roc.tpr).toEqual([0, 0.5, 0.5, 1, 1]);
    expect(roc.thresholds).toEqual([Number.POSITIVE_INFINITY, 0.8, 0.4, 0.35, 0.1]);
    expect(rocAuc([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.75, 15);
  });

  it('drops collinear points like drop_intermediate=True (sklearn test_roc_curve_drop_intermediate)', () => {
    // sklearn's own test: y [0,0,0,0,1,1], s [0,.2,.5,.6,.7,1] → thresholds [inf, 1, 0.7, 0]
    const y = [0, 0, 0, 0, 1, 1];
    const s = [0.0, 0.2, 0.5, 0.6, 0.7, 1.0];
    const roc = rocCurve(y, s);
    expect(roc.thresholds).toEqual([Number.POSITIVE_INFINITY, 1.0, 0.7, 0.0]);
    expect(roc.fpr).toEqual([0, 0, 0, 1]);
    expect(roc.tpr).toEqual([0, 0.5, 1, 1]);
    // second case of the same sklearn test: repeated scores → thresholds [inf, 1, 0.9, 0.7, 0.6, 0]
    const y2 = [0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
    const s2 = [0.0, 0.1, 0.6, 0.6, 0.7, 0.8, 0.9, 0.6, 0.7, 0.8, 0.9, 0.9, 1.0];
    expect(rocCurve(y2, s2).thresholds).toEqual([Number.POSITIVE_INFINITY, 1.0, 0.9, 0.7, 0.6, 0.0]);
    // Without dropping: every distinct score is a point (tps [1,2,2,2,2,2], fps [0,0,1,2,3,4]).
    const full = rocCurve(y, s, { dropIntermediate: false });
    expect(full.thresholds).toEqual([Number.POSITIVE_INFINITY, 1.0, 0.7, 0.6, 0.5, 0.2, 0.0]);
    expect(full.fpr).toEqual([0, 0, 0, 0.25, 0.5, 0.75, 1]);
    expect(full.tpr).toEqual([0, 0.5, 1, 1, 1, 1, 1]);
  });

  it('keeps the first corner of a perfect separation like sklearn', () => {
    // fps [0,0,0,1,2,3], tps [1,2,3,3,3,3]: second differences are non-zero only at index 2 → keep 0, 2, 5
    const roc = rocCurve([0, 0, 0, 1, 1, 1], [0.1, 0.2, 0.3, 0.7, 0.8, 0.9]);
    expect(roc.thresholds).toEqual([Number.POSITIVE_INFINITY, 0.9, 0.7, 0.1]);
    expect(roc.fpr).toEqual([0, 0, 0, 1]);
    expect(roc.tpr[1]).toBeCloseTo(1 / 3, 15);
    expect(roc.tpr.slice(2)).toEqual([1, 1]);
  });

  it('treats tied scores as one step, so a tie counts half in the AUC', () => {
    // sorted: 0.5(1) 0.5(0) 0.5(1) 0.2(0) → one threshold 0.5 with tp 2 fp 1, then 0.2 with tp 2 fp 2
    const y = [1, 0, 1, 0];
    const s = [0.5, 0.5, 0.5, 0.2];
    const roc = rocCurve(y, s);
    expect(roc.fpr).toEqual([0, 0.5, 1]);
    expect(roc.tpr).toEqual([0, 1, 1]);
    expect(roc.thresholds).toEqual([Number.POSITIVE_INFINITY, 0.5, 0.2]);
    // trapezoid 0.5·(0+1)/2 + 0.5·(1+1)/2 = 0.75; Mann-Whitney: two pos-neg ties (0.5 each) + two wins → 3/4
    expect(rocAuc(y, s)).toBe(0.75);
    expect(rocAuc([1, 0], [0.3, 0.3])).toBe(0.5);
  });

  it('equals the Mann-Whitney statistic on random vectors with many ties', () => {
    const random = seededRandom(7);
    for (let trial = 0; trial < 20; trial++) {
      const n = 10 + Math.floor(random() * 60);
      const y = Array.from({ length: n }, (_, i) => (i < 2 ? i : random() < 0.4 ? 1 : 0));
      // integer scores 0..5 force ties; positives are shifted up a little
      const s = y.map((v) => Math.floor(random() * 5 + v * 1.5));
      expect(rocAuc(y, s)).toBeCloseTo(mannWhitneyAuc(y, s), 12);
    }
  });

  it('is invariant to a monotone transform and flips with the score sign', () => {
    const y = [0, 1, 0, 1, 1, 0, 0, 1];
    const s = [0.2, 0.9, 0.4, 0.35, 0.8, 0.1, 0.6, 0.7];
    const auc = rocAuc(y, s);
    // pos {0.9,0.35,0.8,0.7} vs neg {0.2,0.4,0.1,0.6}: wins 4+2+4+4 = 14 of 16
    expect(auc).toBe(14 / 16);
    expect(
      rocAuc(
        y,
        s.map((v) => Math.exp(3 * v)),
      ),
    ).toBe(auc);
    expect(
      rocAuc(
        y,
        s.map((v) => -v),
      ),
    ).toBeCloseTo(1 - auc, 15);
  });

  it('accepts typed arrays', () => {
    expect(rocAuc(new Uint8Array([0, 0, 1, 1]), new Float32Array([0.1, 0.4, 0.35, 0.8]))).toBeCloseTo(
      0.75,
      15,
    );
  });

  it('throws a clear error with only one class, bad labels or mismatched lengths', () => {
    expect(() => rocAuc([1, 1, 1], [0.1, 0.2, 0.3])).toThrow(/only one class.*anomalous/);
    expect(() => rocCurve([0, 0], [0.1, 0.2])).toThrow(/only one class.*normal/);
    expect(() => rocAuc([0, 2], [0.1, 0.2])).toThrow(/label 1 is 2/);
    expect(() => rocAuc([0, 1], [0.1])).toThrow(/2 labels but 1 scores/);
    expect(() => rocAuc([0, 1], [0.1, Number.NaN])).toThrow(/score 1 is NaN/);
    expect(() => rocAuc([], [])).toThrow(/no samples/);
  });
});

describe('trapezoid', () => {
  it('integrates piecewise-linear functions exactly', () => {
    expect(trapezoid([0, 0.5, 1], [0, 1, 1])).toBe(0.75);
    expect(trapezoid([0, 1], [0, 1])).toBe(0.5);
  });
});

import { describe, expect, it } from 'vitest';
import { averagePrecision, precisionRecallCurve } from './precision-recall.js';
import { seededRandom } from './random.js';

describe('precisionRecallCurve', () => {
  it('matches the scikit-learn precision_recall_curve docs example', () => {
    // sklearn ≥ 1.1 docs: y [0,0,1,1], s [0.1,0.4,0.35,0.8] →
    // precision [0.5, 0.667, 0.5, 1, 1], recall [1, 1, 0.5, 0.5, 0], thresholds [0.1, 0.35, 0.4, 0.8]
    const pr = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    expect(pr.precision[0]).toBe(0.5);
    expect(pr.precision[1]).toBeCloseTo(2 / 3, 15);
    expect(pr.precision.slice(2)).toEqual([0.5, 1, 1]);
    expect(pr.recall).toEqual([1, 1, 0.5, 0.5, 0]);
    expect(pr.thresholds).toEqual([0.1, 0.35, 0.4, 0.8]);
  });

  it('groups ties into one point', () => {
    // tps [2,2], fps [1,2] at thresholds [0.5, 0.2] → reversed: P [0.5, 2/3, 1], R [1, 1, 0]
    const pr = precisionRecallCurve([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.2]);
    expect(pr.thresholds).toEqual([0.2, 0.5]);
    expect(pr.recall).toEqual([1, 1, 0]);
    expect(pr.precision[0]).toBe(0.5);
    expect(pr.precision[1]).toBeCloseTo(2 / 3, 15);
    expect(pr.precision[2]).toBe(1);
  });
});

describe('averagePrecision', () => {
  it('matches the scikit-learn average_precision_score docs example (0.8333…)', () => {
    expect(averagePrecision([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8])).toBeCloseTo(0.8333333333333333, 15);
  });

  it('is 2/3 for a three-way tie holding both positives (no interpolation across the tie)', () => {
    // −Σ ΔR·P = −(0·0.5 + (−1)·2/3) = 2/3
    expect(averagePrecision([1, 0, 1, 0], [0.5, 0.5, 0.5, 0.2])).toBeCloseTo(2 / 3, 15);
  });

  it('equals the mean precision at each positive rank when scores are distinct', () => {
    const random = seededRandom(3);
    for (let trial = 0; trial < 10; trial++) {
      const n = 30;
      const y = Array.from({ length: n }, (_, i) => (i < 2 ? i : random() < 0.3 ? 1 : 0));
      const s = y.map((v) => random() + 0.3 * v);
      const order = s.map((_, i) => i).sort((a, b) => s[b] - s[a]);
      let tp = 0;
      let sum = 0;
      order.forEach((i, rank) => {
        if (y[i] === 1) {
          tp++;
          sum += tp / (rank + 1);
        }
      });
      expect(averagePrecision(y, s)).toBeCloseTo(sum / tp, 12);
    }
  });

  it('is 1 for a perfect ranking and the prevalence-level for a constant score', () => {
    expect(averagePrecision([0, 0, 1, 1, 1], [0.1, 0.2, 0.7, 0.8, 0.9])).toBe(1);
    // one tied point: precision = prevalence 3/5, recall 1
    expect(averagePrecision([0, 0, 1, 1, 1], [0.5, 0.5, 0.5, 0.5, 0.5])).toBeCloseTo(0.6, 15);
  });

  it('throws a clear error with only one class', () => {
    expect(() => averagePrecision([0, 0, 0], [0.1, 0.2, 0.3])).toThrow(/averagePrecision.*only one class/);
    expect(() => precisionRecallCurve([1, 1], [0.1, 0.2])).toThrow(/only one class/);
  });
});

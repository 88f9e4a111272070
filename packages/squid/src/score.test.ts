import { describe, expect, it } from 'vitest';
import { anomalyScores, normStats } from './score.js';

describe('score normalisation', () => {
  it('μ and σ are the mean and population std of the logits', () => {
    // 2, 4, 4, 4, 5, 5, 7, 9: mean 5, population std 2.
    expect(normStats([2, 4, 4, 4, 5, 5, 7, 9])).toEqual({ mu: 5, sigma: 2, count: 8 });
    expect(normStats([1, 1]).sigma).toBe(1e-8);
    expect(() => normStats([])).toThrow(/no logits/);
  });

  it('A = 1 − sigmoid((d − μ)/σ): below-normal logits score as anomalous', () => {
    const s = anomalyScores([5, 7, 3, 5 + 2 * 50], { mu: 5, sigma: 2 });
    expect(s[0]).toBeCloseTo(0.5, 7);
    expect(s[1]).toBeCloseTo(1 - 1 / (1 + Math.exp(-1)), 7);
    expect(s[2]).toBeCloseTo(1 - 1 / (1 + Math.exp(1)), 7);
    // Far above normal: tiny but positive (no cancellation to 0).
    expect(s[3]).toBeGreaterThan(0);
    expect(s[3]).toBeCloseTo(Math.exp(-50), 25);
  });
});

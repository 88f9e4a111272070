import { describe, expect, it } from 'vitest';
import { bootstrapCi } from './bootstrap.js';
import { seededRandom } from './random.js';
import { rocAuc } from './roc.js';
import { formatMeanStd, meanStd, quantile } from './summary.js';

function normals(random: () => number, n: number, shift: number): number[] {
  return Array.from({ length: n }, () => {
    const u = 1 - random();
    return shift + Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * random());
  });
}

describe('seededRandom', () => {
  it('is reproducible, in [0, 1) and roughly uniform', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 10_000 }, () => a());
    expect(Array.from({ length: 10_000 }, () => b())).toEqual(xs);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((p, v) => p + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.01); // SE = 0.0029
    expect(seededRandom(43)()).not.toBe(seededRandom(42)());
  });
});

describe('bootstrapCi', () => {
  const random = seededRandom(1);
  const n = 150;
  const y = [...new Array(n).fill(0), ...new Array(n).fill(1)];
  const s = [...normals(random, n, 0), ...normals(random, n, 1)];

  it('gives an AUC interval as wide as the Hanley-McNeil standard error predicts', () => {
    const ci = bootstrapCi(y, s, rocAuc, { resamples: 400, seed: 5 });
    const a = rocAuc(y, s);
    expect(ci.estimate).toBe(a);
    expect(a).toBeGreaterThan(0.7); // Φ(1/√2) = 0.76 in expectation
    expect(a).toBeLessThan(0.82);
    // Hanley & McNeil (1982): SE² = [A(1−A) + (n1−1)(Q1−A²) + (n0−1)(Q2−A²)] / (n1 n0)
    const q1 = a / (2 - a);
    const q2 = (2 * a * a) / (1 + a);
    const se = Math.sqrt((a * (1 - a) + (n - 1) * (q1 - a * a) + (n - 1) * (q2 - a * a)) / (n * n));
    const ratio = (ci.upper - ci.lower) / (2 * 1.96 * se);
    expect(ratio).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
    expect(ci.lower).toBeLessThan(a);
    expect(ci.upper).toBeGreaterThan(a);
    expect(ci.skipped).toBe(0);
  });

  it('is reproducible from the seed and changes with it', () => {
    const a = bootstrapCi(y, s, rocAuc, { resamples: 50, seed: 9 });
    expect(bootstrapCi(y, s, rocAuc, { resamples: 50, seed: 9 })).toEqual(a);
    expect(bootstrapCi(y, s, rocAuc, { resamples: 50, seed: 10 }).lower).not.toBe(a.lower);
    expect(bootstrapCi(y, s, rocAuc, { resamples: 50, random: seededRandom(9) })).toEqual(a);
  });

  it('skips one-class resamples when not stratified', () => {
    // Resampling 2 items gives both classes with probability 1/2; every valid resample has AUC 1.
    const ci = bootstrapCi([0, 1], [0.1, 0.9], rocAuc, { resamples: 400, stratified: false, seed: 2 });
    expect(ci.skipped).toBeGreaterThan(150);
    expect(ci.skipped).toBeLessThan(250);
    expect([ci.lower, ci.upper]).toEqual([1, 1]);
  });

  it('rejects bad options', () => {
    expect(() => bootstrapCi(y, s, rocAuc, { resamples: 0 })).toThrow(/resamples/);
    expect(() => bootstrapCi(y, s, rocAuc, { level: 1 })).toThrow(/level/);
  });
});

describe('meanStd and quantile', () => {
  it('match numpy', () => {
    // np.mean([1,2,3,4]) = 2.5, np.std(ddof=1) = sqrt(5/3), np.std() = sqrt(1.25)
    expect(meanStd([1, 2, 3, 4])).toEqual({ mean: 2.5, std: Math.sqrt(5 / 3), n: 4 });
    expect(meanStd([1, 2, 3, 4], { ddof: 0 }).std).toBe(Math.sqrt(1.25));
    expect(meanStd([0.8])).toEqual({ mean: 0.8, std: 0, n: 1 });
    expect(formatMeanStd(meanStd([0.876, 0.861, 0.891]), { scale: 100 })).toBe('87.6 ± 1.5');
    // np.percentile([1,2,3,4], 25) = 1.75 (linear)
    expect(quantile([1, 2, 3, 4], 0.25)).toBe(1.75);
    expect(quantile([1, 2, 3, 4], 1)).toBe(4);
    expect(() => meanStd([])).toThrow(/no values/);
  });
});

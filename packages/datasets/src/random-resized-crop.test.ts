import { Rng } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { randomResizedCrop, roundHalfEven } from './random-resized-crop.js';

const OFFICIAL: [number, number] = [0.6, 1.3];
// A draw fits when round(28·√s) ≤ 28, i.e. s ≤ 28.5²/784 = 812.25/784 ≈ 1.0360.
const FIT = 812.25 / 784;

/** P(side = k | a draw fitted) for s ~ U(lo, hi): s in [((k − ½)/28)², ((k + ½)/28)²]. */
function sideProbability(k: number, [lo, hi]: [number, number]): number {
  const a = Math.max(((k - 0.5) / 28) ** 2, lo);
  const b = Math.min(((k + 0.5) / 28) ** 2, hi, FIT);
  return Math.max(0, b - a) / (Math.min(hi, FIT) - lo);
}

describe('randomResizedCrop (torchvision get_params, ratio 1)', () => {
  it('rounds halves to even like Python', () => {
    expect([0.5, 1.5, 2.5, 27.5, 28.5, -2.5, 2.4, 2.6].map(roundHalfEven)).toEqual([
      0, 2, 2, 28, 28, -2, 2, 3,
    ]);
  });

  it('draws sides 22..28 with the exact probabilities of the official scale (0.6, 1.3)', () => {
    const rng = Rng.fromSeed(11);
    const n = 200_000;
    const counts = new Map<number, number>();
    let fallbacks = 0;
    let outside = 0;
    for (let i = 0; i < n; i++) {
      const c = randomResizedCrop(rng, 28, OFFICIAL);
      if (c.fallback) {
        fallbacks++;
        continue;
      }
      counts.set(c.size, (counts.get(c.size) ?? 0) + 1);
      if (Math.min(c.top, c.left) < 0 || Math.max(c.top, c.left) + c.size > 28) outside++;
    }
    expect(outside).toBe(0);
    expect([...counts.keys()].sort((a, b) => a - b)).toEqual([22, 23, 24, 25, 26, 27, 28]);
    const fitted = n - fallbacks;
    // Exact: 22 → 0.1049, 23 → 0.1346, …, 28 → 0.1638; each within 4 standard errors.
    expect(sideProbability(22, OFFICIAL)).toBeCloseTo(0.10487, 5);
    expect(sideProbability(28, OFFICIAL)).toBeCloseTo(0.16381, 5);
    for (let k = 22; k <= 28; k++) {
      const p = sideProbability(k, OFFICIAL);
      const se = Math.sqrt((p * (1 - p)) / fitted);
      expect(Math.abs((counts.get(k) ?? 0) / fitted - p)).toBeLessThan(4 * se);
    }
  });

  it('places the crop uniformly: top and left each take every value in 0..28−w', () => {
    const rng = Rng.fromSeed(12);
    const seen = new Map<number, Set<number>>();
    let sum = 0;
    let n = 0;
    for (let i = 0; i < 20_000; i++) {
      const c = randomResizedCrop(rng, 28, OFFICIAL);
      if (c.size !== 22) continue;
      for (const v of [c.top, c.left]) {
        if (!seen.has(c.size)) seen.set(c.size, new Set());
        seen.get(c.size)!.add(v);
        sum += v;
        n++;
      }
    }
    expect([...seen.get(22)!].sort()).toEqual([0, 1, 2, 3, 4, 5, 6]);
    // Uniform on 0..6: mean 3, variance 4; ~2,000 crops of side 22 give a standard error of ~0.03.
    expect(Math.abs(sum / n - 3)).toBeLessThan(4 * Math.sqrt(4 / n));
  });

  it('falls back to the whole image after exactly 10 misses', () => {
    // Every draw of (1.2, 1.3) is too large: always the whole image.
    const always = randomResizedCrop(Rng.fromSeed(1), 28, [1.2, 1.3]);
    expect(always).toEqual({ top: 0, left: 0, size: 28, fallback: true });
    // Scale (0.6, 2): a draw misses with q = (2 − FIT)/1.4 ≈ 0.6885, so P(fallback) = q¹⁰ ≈ 0.0240
    // (9 tries would give 0.0349, 11 tries 0.0165).
    const q = (2 - FIT) / 1.4;
    const p = q ** 10;
    expect(p).toBeCloseTo(0.024, 3);
    const rng = Rng.fromSeed(13);
    const n = 40_000;
    let k = 0;
    for (let i = 0; i < n; i++) if (randomResizedCrop(rng, 28, [0.6, 2]).fallback) k++;
    expect(Math.abs(k / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
  });

  it('official scale: P(fallback) = (4139/10976)¹⁰ ≈ 5.81e-5, about one digit in 17,200', () => {
    const q = (1.3 - FIT) / 0.7;
    expect(q).toBeCloseTo(4139 / 10976, 14);
    const p = q ** 10;
    expect(p).toBeCloseTo(5.8145e-5, 8);
    const rng = Rng.fromSeed(14);
    const n = 1_000_000;
    let k = 0;
    for (let i = 0; i < n; i++) if (randomResizedCrop(rng, 28, OFFICIAL).fallback) k++;
    // Expected 58 of a million, standard deviation ~7.6.
    expect(Math.abs(k - n * p)).toBeLessThan(4 * Math.sqrt(n * p));
  });
});

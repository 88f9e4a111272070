import { describe, expect, it } from 'vitest';
import { Rng } from './rng.js';

describe('Rng', () => {
  it('repeats the same sequence for the same seed and differs for another', () => {
    const a = Rng.fromSeed(42);
    const b = Rng.fromSeed(42);
    const c = Rng.fromSeed(43);
    const sa = Array.from({ length: 5 }, () => a.next());
    expect(Array.from({ length: 5 }, () => b.next())).toEqual(sa);
    expect(Array.from({ length: 5 }, () => c.next())).not.toEqual(sa);
  });

  it('continues exactly from a saved state', () => {
    const a = Rng.fromSeed(7);
    a.next();
    const restored = Rng.fromState(a.getState());
    expect([restored.next(), restored.int(10), restored.normal()]).toEqual([a.next(), a.int(10), a.normal()]);
  });

  it('draws uniform floats in [0,1) with the right mean and ints in range', () => {
    const r = Rng.fromSeed(1);
    let sum = 0;
    const n = 20000;
    for (let i = 0; i < n; i++) {
      const x = r.next();
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThan(1);
      sum += x;
    }
    // std of the mean is 1/sqrt(12 n) ≈ 0.002
    expect(Math.abs(sum / n - 0.5)).toBeLessThan(0.01);
    const counts = new Array(3).fill(0);
    for (let i = 0; i < 3000; i++) counts[r.int(3)]++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
  });

  it('gives neighbouring seeds independent first draws', () => {
    const n = 2000;
    const first = Array.from({ length: n }, (_, seed) => Rng.fromSeed(seed).next());
    const meanSeed = (n - 1) / 2;
    const meanDraw = first.reduce((a, b) => a + b, 0) / n;
    let cov = 0;
    let varSeed = 0;
    let varDraw = 0;
    first.forEach((x, seed) => {
      cov += (seed - meanSeed) * (x - meanDraw);
      varSeed += (seed - meanSeed) ** 2;
      varDraw += (x - meanDraw) ** 2;
    });
    // Independent draws: mean 0.5 ± 3σ (σ ≈ 0.0065) and correlation with the seed ≈ 0 ± 3/√n.
    expect(Math.abs(meanDraw - 0.5)).toBeLessThan(0.02);
    expect(Math.abs(cov / Math.sqrt(varSeed * varDraw))).toBeLessThan(0.07);
    // Consecutive seeds must not start with nearly equal values.
    const close = first.slice(1).filter((x, i) => Math.abs(x - first[i]) < 0.001).length;
    expect(close).toBeLessThan(20);
  });

  it('shuffles into a permutation', () => {
    const items = Rng.fromSeed(3).shuffle([...Array(50).keys()]);
    expect([...items].sort((x, y) => x - y)).toEqual([...Array(50).keys()]);
    expect(items).not.toEqual([...Array(50).keys()]);
  });
});

import { describe, expect, it } from 'vitest';
import { cosineLr } from './cosine-schedule.js';

describe('cosineLr', () => {
  it('matches the closed form at known points', () => {
    expect(cosineLr(1e-4, 0, 300, 0.01)).toBeCloseTo(1e-4, 15);
    // Half-way: the mean of base and min.
    expect(cosineLr(1e-4, 150, 300, 0.01)).toBeCloseTo((1e-4 + 1e-6) / 2, 15);
    expect(cosineLr(1e-4, 300, 300, 0.01)).toBeCloseTo(1e-6, 15);
    // t = 100 of 300: cos(π/3) = 0.5 → min + 0.75·(base − min).
    expect(cosineLr(2, 100, 300, 0.5)).toBeCloseTo(1 + 0.75 * 1, 12);
  });

  it("agrees with PyTorch's recursive CosineAnnealingLR update", () => {
    // PyTorch step(): lr_t = min + (lr_{t-1} − min)(1 + cos(π t/T)) / (1 + cos(π (t−1)/T)).
    const base = 1e-4;
    const tMax = 30;
    const min = base * 0.1;
    let lr = base;
    for (let t = 1; t <= 25; t++) {
      lr =
        min +
        ((lr - min) * (1 + Math.cos((Math.PI * t) / tMax))) / (1 + Math.cos((Math.PI * (t - 1)) / tMax));
      expect(cosineLr(base, t, tMax, 0.1)).toBeCloseTo(lr, 12);
    }
  });

  it('rejects bad arguments', () => {
    expect(() => cosineLr(1, -1, 10, 0)).toThrow(/epoch/);
    expect(() => cosineLr(1, 0, 0, 0)).toThrow(/tMax/);
  });
});

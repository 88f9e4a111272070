import type { TrainProgress } from '@squid-ad/squid';
import { describe, expect, it } from 'vitest';
import { timeBudget } from './time-budget.js';

// The demo's shape: 27 epochs of 15 steps at 6 images/s, batch 16 (2.67 s per step).
const progress = (epoch: number, step: number): TrainProgress => {
  const left = (27 - epoch - 1) * 15 + (15 - step - 1);
  return {
    epoch,
    epochs: 27,
    step,
    steps: 15,
    iteration: epoch * 15 + step + 1,
    losses: { d: 1 },
    imagesPerSecond: 6,
    etaSeconds: (left * 16) / 6,
  };
};

describe('timeBudget', () => {
  it('cuts the ETA to the budget left, and stops only once it is spent after an epoch', () => {
    let now = 1000;
    const budget = timeBudget(9, () => now);
    // 60 s in, epoch 1 step 4: the epoch cap says 401 steps left (1069 s); the budget 480 s.
    now += 60;
    expect(progress(0, 3).etaSeconds).toBeCloseTo((401 * 16) / 6, 6);
    expect(budget.progress(progress(0, 3)).etaSeconds).toBe(480);
    expect(budget.spent()).toBe(false);
    budget.epochDone();
    now += 479.5;
    expect(budget.progress(progress(11, 0)).etaSeconds).toBeCloseTo(0.5, 6);
    expect(budget.spent()).toBe(false);
    now += 0.5;
    expect(budget.spent()).toBe(true);
    expect(budget.progress(progress(11, 1)).etaSeconds).toBe(0);
  });

  it('before the first epoch ends, counts at least to its end; the epoch cap when it comes first', () => {
    let now = 0;
    const budget = timeBudget(0.5, () => now);
    now = 10;
    // Step 3 of 15: 12 steps of this epoch left, 32 s; only 20 s of budget.
    const p = budget.progress(progress(0, 2));
    expect(p.etaSeconds).toBeCloseTo((12 * 16) / 6, 6);
    now = 100;
    expect(budget.spent()).toBe(false);
    budget.epochDone();
    expect(budget.spent()).toBe(true);
    // A long budget and a near epoch cap: the cap's ETA stands.
    const long = timeBudget(600, () => now);
    expect(long.progress(progress(26, 10)).etaSeconds).toBeCloseTo((4 * 16) / 6, 6);
  });
});

// `squid-train --max-minutes M`: a wall-clock budget for one invocation. Once it is spent and an
// epoch of this invocation has finished (so a validated checkpoint exists), the run stops the way
// Ctrl-C stops it (checkpoint, exit 0, --resume continues). The progress ETA counts the budget:
// the epoch cap alone made a 9-minute demo show `ETA 1h41m`.
import type { TrainProgress } from '@squid-ad/squid';

export interface TimeBudget {
  readonly minutes: number;
  /** True once the budget is spent and an epoch of this invocation has finished. */
  spent(): boolean;
  /** Records that an epoch finished (its metrics row and checkpoint are written). */
  epochDone(): void;
  /** `p` with its ETA cut to when the budget stops the run, where that comes first. */
  progress(p: TrainProgress): TrainProgress;
}

/** A budget of `minutes` from now; `nowSeconds` is the clock (tests inject one). */
export function timeBudget(minutes: number, nowSeconds = () => performance.now() / 1000): TimeBudget {
  const end = nowSeconds() + minutes * 60;
  let epochsDone = 0;
  return {
    minutes,
    spent: () => epochsDone > 0 && nowSeconds() >= end,
    epochDone() {
      epochsDone++;
    },
    progress(p) {
      const budgetLeft = Math.max(0, end - nowSeconds());
      // Before its first epoch ends the run cannot stop, so it goes on at least to that epoch's
      // end: the trainer's ETA (all steps left, at the current speed) scaled to this epoch's steps.
      const stepsLeft = (p.epochs - p.epoch - 1) * p.steps + (p.steps - p.step - 1);
      const epochLeft = stepsLeft > 0 ? (p.etaSeconds * (p.steps - p.step - 1)) / stepsLeft : 0;
      const untilStop = epochsDone > 0 ? budgetLeft : Math.max(budgetLeft, epochLeft);
      return { ...p, etaSeconds: Math.min(p.etaSeconds, untilStop) };
    },
  };
}

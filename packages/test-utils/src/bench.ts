// Bench-only helpers (no vitest import, so bench scripts run under plain tsx).

/**
 * Median wall time of `fn` in ms after one warm-up call: at least 3 runs, then more until
 * `budgetMs` has passed (at most 30).
 */
export function medianMs(fn: () => void, budgetMs: number): number {
  fn();
  const times: number[] = [];
  const start = performance.now();
  while (times.length < 3 || (performance.now() - start < budgetMs && times.length < 30)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

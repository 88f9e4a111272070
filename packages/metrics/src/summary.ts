/** Mean and standard deviation of one metric over several runs (e.g. seeds). */
export interface MeanStd {
  mean: number;
  std: number;
  n: number;
}

/**
 * Mean ± std; `ddof` 1 (default) gives the sample standard deviation, 0 numpy's `np.std`.
 * A single value has std 0.
 */
export function meanStd(values: ArrayLike<number>, options: { ddof?: 0 | 1 } = {}): MeanStd {
  const { ddof = 1 } = options;
  const n = values.length;
  if (n === 0) throw new Error('meanStd: no values');
  let sum = 0;
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(values[i])) throw new Error(`meanStd: value ${i} is ${values[i]}`);
    sum += values[i];
  }
  const mean = sum / n;
  if (n - ddof <= 0) return { mean, std: 0, n };
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (values[i] - mean) ** 2;
  return { mean, std: Math.sqrt(ss / (n - ddof)), n };
}

/** "87.6 ± 1.5" with the given number of decimals; `scale` 100 shows fractions as percent. */
export function formatMeanStd(m: MeanStd, options: { digits?: number; scale?: number } = {}): string {
  const { digits = 1, scale = 1 } = options;
  return `${(m.mean * scale).toFixed(digits)} ± ${(m.std * scale).toFixed(digits)}`;
}

/** Quantile with linear interpolation between order statistics (numpy's default method). */
export function quantile(sorted: ArrayLike<number>, q: number): number {
  if (sorted.length === 0) throw new Error('quantile: no values');
  if (!(q >= 0 && q <= 1)) throw new Error(`quantile: q must be in [0, 1], got ${q}`);
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(lo + 1, sorted.length - 1);
  return sorted[lo] + (h - lo) * (sorted[hi] - sorted[lo]);
}

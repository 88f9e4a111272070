import { seededRandom } from './random.js';
import { quantile } from './summary.js';
import { checkBinary, type Labels, type Scores } from './validate.js';

/** A metric of labelled scores, e.g. `rocAuc` or `(y, s) => metricsAt(y, s, t).f1`. */
export type Statistic = (labels: number[], scores: number[]) => number;

export interface BootstrapOptions {
  /** number of resamples (default 1000) */
  resamples?: number;
  /** confidence level (default 0.95) */
  level?: number;
  /** seed of the built-in PRNG (default 0); ignored when `random` is given */
  seed?: number;
  /** a source of uniform [0, 1) numbers to use instead of the seeded PRNG */
  random?: () => number;
  /**
   * resample normals and anomalies separately (default true): every resample keeps the class
   * counts, so AUC is always defined. With false, resamples where the statistic throws
   * (e.g. one class only) are skipped and counted in `skipped`.
   */
  stratified?: boolean;
}

/** A percentile bootstrap confidence interval. */
export interface ConfidenceInterval {
  /** the statistic on the full data */
  estimate: number;
  lower: number;
  upper: number;
  level: number;
  resamples: number;
  skipped: number;
}

/** Percentile bootstrap CI of `statistic` over (label, score) pairs, reproducible from `seed`. */
export function bootstrapCi(
  labels: Labels,
  scores: Scores,
  statistic: Statistic,
  options: BootstrapOptions = {},
): ConfidenceInterval {
  const { resamples = 1000, level = 0.95, seed = 0, stratified = true } = options;
  if (!Number.isInteger(resamples) || resamples < 1) {
    throw new Error(`bootstrapCi: resamples must be a positive integer, got ${resamples}`);
  }
  if (!(level > 0 && level < 1)) throw new Error(`bootstrapCi: level must be in (0, 1), got ${level}`);
  checkBinary('bootstrapCi', labels, scores);
  const random = options.random ?? seededRandom(seed);
  const y = Array.from(labels);
  const s = Array.from(scores);
  const estimate = statistic(y, s);
  const groups = stratified
    ? [0, 1].map((c) => y.flatMap((v, i) => (v === c ? [i] : []))).filter((g) => g.length > 0)
    : [y.map((_, i) => i)];
  const values: number[] = [];
  let skipped = 0;
  const ry = new Array<number>(y.length);
  const rs = new Array<number>(y.length);
  for (let r = 0; r < resamples; r++) {
    let k = 0;
    for (const g of groups) {
      for (let j = 0; j < g.length; j++) {
        const i = g[Math.min(g.length - 1, Math.floor(random() * g.length))];
        ry[k] = y[i];
        rs[k] = s[i];
        k++;
      }
    }
    let v: number;
    try {
      v = statistic(ry, rs);
    } catch (err) {
      if (stratified) throw err;
      skipped++;
      continue;
    }
    if (Number.isFinite(v)) values.push(v);
    else skipped++;
  }
  if (values.length === 0) throw new Error(`bootstrapCi: all ${resamples} resamples failed`);
  values.sort((a, b) => a - b);
  const alpha = (1 - level) / 2;
  return {
    estimate,
    lower: quantile(values, alpha),
    upper: quantile(values, 1 - alpha),
    level,
    resamples,
    skipped,
  };
}

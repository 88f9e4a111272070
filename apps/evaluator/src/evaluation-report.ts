import {
  averagePrecision,
  bootstrapCi,
  metricsAt,
  rocAuc,
  type Statistic,
  selectThreshold,
  type ThresholdMethod,
} from '@squid-ad/metrics';
import { z } from 'zod';
import type { ScoredItem } from './scored-item.js';

/** How the operating threshold was fixed. */
export type ThresholdSpec =
  /** picked on the validation split (during training, or by scoring it) before seeing test labels */
  | { source: 'val'; value: number; method?: string }
  /** picked on the evaluated items themselves (the paper's protocol: optimistic) */
  | { source: 'oracle'; method: ThresholdMethod; targetSensitivity?: number }
  /** given by the user */
  | { source: 'fixed'; value: number };

/** The name of SQUID's score: what a report calls the items' `score` when no model says otherwise. */
export const DEFAULT_SCORE_NAME = 'discriminator';

/** Options of {@link evaluationReport}: zod schema with defaults. */
export const evaluationOptionsSchema = z.object({
  /** bootstrap resamples for the confidence intervals */
  resamples: z.number().int().positive().default(1000),
  /** confidence level of the intervals */
  level: z.number().gt(0).lt(1).default(0.95),
  /** seed of the bootstrap */
  seed: z.number().int().default(0),
  /** name of the items' `score`: the model's own score (`scores` key; default SQUID's `discriminator`) */
  scoreName: z.string().min(1).default(DEFAULT_SCORE_NAME),
});
export type EvaluationOptions = z.input<typeof evaluationOptionsSchema>;

const interval = z.object({ lower: z.number(), upper: z.number() });
const metricNames = [
  'auc',
  'averagePrecision',
  'accuracy',
  'f1',
  'recall',
  'precision',
  'specificity',
] as const;
export type MetricName = (typeof metricNames)[number];
export const METRIC_NAMES: readonly MetricName[] = metricNames;

// Kept in sync with @squid-ad/squid's SCORE_NAMES; not imported so `compare` loads no TensorFlow.js.
const reconScores = ['recon-l1', 'recon-l1-worst-cell'] as const;
/** The reconstruction errors every model's items carry beside its own score. */
export type ReconScoreName = (typeof reconScores)[number];
/** The per-image scores of a SQUID report: the official discriminator score and two reconstruction errors. */
export const SCORE_NAMES: readonly string[] = [DEFAULT_SCORE_NAME, ...reconScores];
const RECON_OF: Record<ReconScoreName, (it: ScoredItem) => number | undefined> = {
  'recon-l1': (it) => it.reconL1,
  'recon-l1-worst-cell': (it) => it.reconL1WorstCell,
};

/** The name of a run's own score: its model's (`discriminator` for SQUID and runs that do not say). */
export const scoreNameOf = (run: { model?: { scoreName: string } }): string =>
  run.model?.scoreName ?? DEFAULT_SCORE_NAME;

/**
 * The scores a report compares, the model's own first (`scoreName`, SQUID: `discriminator`),
 * then the reconstruction errors (a model whose own score is named like one of them keeps it once).
 */
export function scoreNamesOf(scoreName: string): string[] {
  return [scoreName, ...reconScores.filter((n) => n !== scoreName)];
}

const typeAuc = z.object({ type: z.string(), count: z.number(), auc: z.number(), ci: interval.nullable() });
/** AUC of one score with its bootstrap CI, overall and per anomaly type (each type against all normals). */
const scoreAucSchema = z.object({ auc: z.number(), ci: interval, perType: z.array(typeAuc) });
export type ScoreAuc = z.infer<typeof scoreAucSchema>;

/** The schema of `report.json`; `squid-eval compare` validates files against it. */
export const evaluationReportSchema = z.object({
  format: z.literal('squid-eval-report/1'),
  createdAt: z.string(),
  source: z.record(z.string(), z.unknown()).default({}),
  counts: z.object({ total: z.number(), normal: z.number(), anomalous: z.number() }),
  metrics: z.object({
    auc: z.number(),
    averagePrecision: z.number(),
    accuracy: z.number(),
    f1: z.number(),
    recall: z.number(),
    precision: z.number(),
    specificity: z.number(),
  }),
  threshold: z.object({
    value: z.number().nullable(),
    source: z.enum(['val', 'oracle', 'fixed']),
    method: z.string().optional(),
    targetSensitivity: z.number().optional(),
    note: z.string(),
  }),
  confusion: z.object({ tp: z.number(), fp: z.number(), tn: z.number(), fn: z.number() }),
  ci: z.object({
    level: z.number(),
    resamples: z.number(),
    seed: z.number(),
    method: z.string(),
    auc: interval,
    averagePrecision: interval,
    accuracy: interval,
    f1: interval,
    recall: interval,
    precision: interval,
    specificity: interval,
  }),
  perType: z.array(typeAuc),
  /**
   * AUC of every score the items carry, keyed by score name, the model's own score first
   * (`source.score`, SQUID's `discriminator`: it repeats `metrics.auc`, `ci.auc` and `perType`).
   * Absent in reports written before it existed.
   */
  scores: z.record(z.string(), scoreAucSchema).optional(),
  /** Images left out as unreadable (`--skip-bad`), with the reason; absent without the flag. */
  skipped: z.array(z.object({ path: z.string(), reason: z.string() })).optional(),
});
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

/**
 * The name of the score a report's `metrics`, threshold and `perType` use: the model's own
 * (`source.score`), `discriminator` in SQUID reports and those written before other models.
 */
export function officialScoreOf(report: Pick<EvaluationReport, 'source'>): string {
  const s = report.source.score;
  return typeof s === 'string' && s.length > 0 ? s : DEFAULT_SCORE_NAME;
}

const NOTES = {
  val: 'threshold fixed on the validation split before looking at these labels',
  oracle: 'threshold chosen on these very labels (the paper protocol): accuracy/F1 are optimistic',
  fixed: 'threshold given by the user',
};

type CiOptions = { resamples: number; level: number; seed: number };

/** AUC of `values` with its CI, overall and per anomaly type (each type against all normals). */
function scoreAuc(items: readonly ScoredItem[], values: readonly number[], ciOpts: CiOptions): ScoreAuc {
  const labels = items.map((it) => it.label);
  const types = [...new Set(items.filter((it) => it.label === 1 && it.type).map((it) => it.type!))].sort();
  const perType = types.map((type) => {
    const idx = items.flatMap((it, i) => (it.label === 0 || it.type === type ? [i] : []));
    const y = idx.map((i) => labels[i]);
    const s = idx.map((i) => values[i]);
    const c = bootstrapCi(y, s, rocAuc, ciOpts);
    return {
      type,
      count: y.length - y.filter((v) => v === 0).length,
      auc: rocAuc(y, s),
      ci: { lower: c.lower, upper: c.upper },
    };
  });
  const c = bootstrapCi(labels, values, rocAuc, ciOpts);
  return { auc: rocAuc(labels, values), ci: { lower: c.lower, upper: c.upper }, perType };
}

/**
 * The scores every item carries, with their values, the model's own (`scoreName`) first; an
 * error when only some items carry one.
 */
function scoreValues(items: readonly ScoredItem[], scoreName: string): Array<[string, number[]]> {
  const out: Array<[string, number[]]> = [];
  for (const name of scoreNamesOf(scoreName)) {
    const get = name === scoreName ? (it: ScoredItem) => it.score : RECON_OF[name as ReconScoreName];
    const values = items.map(get);
    const missing = values.indexOf(undefined);
    if (missing === -1) out.push([name, values as number[]]);
    else if (values.some((v) => v !== undefined))
      throw new Error(`cannot evaluate: ${items[missing].path} has no ${name} score but other images do`);
  }
  return out;
}

/**
 * Every number of `report.json` from scored items: AUC, AP, metrics at the threshold, counts,
 * per-anomaly-type AUC (each type against all normals) and percentile-bootstrap CIs, plus the
 * AUCs of every other score the items carry (`scores`). The threshold and its metrics use the
 * model's own score (`options.scoreName`, default SQUID's discriminator score). The CIs of threshold metrics hold the threshold fixed (they ignore the
 * uncertainty of choosing it).
 */
export function evaluationReport(
  items: readonly ScoredItem[],
  thresholdSpec: ThresholdSpec,
  options: EvaluationOptions = {},
  source: Record<string, unknown> = {},
): EvaluationReport {
  const opts = evaluationOptionsSchema.parse(options);
  const labels = items.map((it) => it.label);
  const scores = items.map((it) => it.score);
  const anomalous = labels.reduce<number>((a, b) => a + b, 0);
  if (anomalous === 0 || anomalous === items.length) {
    throw new Error(
      `cannot evaluate: all ${items.length} images are ${anomalous === 0 ? 'normal' : 'anomalous'}; ` +
        'AUC needs both normal and anomalous images',
    );
  }
  let threshold: number;
  let method: string | undefined;
  let targetSensitivity: number | undefined;
  if (thresholdSpec.source === 'oracle') {
    const picked = selectThreshold(labels, scores, thresholdSpec);
    threshold = picked.threshold;
    method = thresholdSpec.method;
    targetSensitivity = thresholdSpec.targetSensitivity;
  } else {
    if (!Number.isFinite(thresholdSpec.value) && thresholdSpec.value !== Number.POSITIVE_INFINITY) {
      throw new Error(`threshold must be a number, got ${thresholdSpec.value}`);
    }
    threshold = thresholdSpec.value;
    method = thresholdSpec.source === 'val' ? thresholdSpec.method : undefined;
  }
  const at = metricsAt(labels, scores, threshold);
  const statistics: Record<MetricName, Statistic> = {
    auc: rocAuc,
    averagePrecision,
    accuracy: (y, s) => metricsAt(y, s, threshold).accuracy,
    f1: (y, s) => metricsAt(y, s, threshold).f1,
    recall: (y, s) => metricsAt(y, s, threshold).recall,
    precision: (y, s) => metricsAt(y, s, threshold).precision,
    specificity: (y, s) => metricsAt(y, s, threshold).specificity,
  };
  const ciOpts: CiOptions = { resamples: opts.resamples, level: opts.level, seed: opts.seed };
  // The same seeded resamples for every score: their AUCs and CIs are paired.
  const scoreAucs = Object.fromEntries(
    scoreValues(items, opts.scoreName).map(([name, values]) => [name, scoreAuc(items, values, ciOpts)]),
  ) as Record<string, ScoreAuc>;
  const official = scoreAucs[opts.scoreName];
  const ci = Object.fromEntries(
    metricNames.map((name) => {
      if (name === 'auc') return [name, official.ci];
      const c = bootstrapCi(labels, scores, statistics[name], ciOpts);
      return [name, { lower: c.lower, upper: c.upper }];
    }),
  ) as Record<MetricName, { lower: number; upper: number }>;

  return {
    format: 'squid-eval-report/1',
    createdAt: new Date().toISOString(),
    // Which score `metrics` use is recorded whenever it is not SQUID's (see officialScoreOf).
    source:
      opts.scoreName === DEFAULT_SCORE_NAME || 'score' in source
        ? source
        : { ...source, score: opts.scoreName },
    counts: { total: items.length, normal: items.length - anomalous, anomalous },
    metrics: {
      auc: official.auc,
      averagePrecision: averagePrecision(labels, scores),
      accuracy: at.accuracy,
      f1: at.f1,
      recall: at.recall,
      precision: at.precision,
      specificity: at.specificity,
    },
    threshold: {
      // JSON has no Infinity: "flag nothing" is stored as null
      value: Number.isFinite(threshold) ? threshold : null,
      source: thresholdSpec.source,
      ...(method ? { method } : {}),
      ...(targetSensitivity !== undefined ? { targetSensitivity } : {}),
      note: NOTES[thresholdSpec.source],
    },
    confusion: { tp: at.tp, fp: at.fp, tn: at.tn, fn: at.fn },
    ci: {
      level: opts.level,
      resamples: opts.resamples,
      seed: opts.seed,
      method: 'percentile bootstrap, stratified by class; threshold metrics at the fixed threshold',
      ...ci,
    },
    perType: official.perType,
    scores: scoreAucs,
  };
}

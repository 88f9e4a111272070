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

/** Options of {@link evaluationReport}: zod schema with defaults. */
export const evaluationOptionsSchema = z.object({
  /** bootstrap resamples for the confidence intervals */
  resamples: z.number().int().positive().default(1000),
  /** confidence level of the intervals */
  level: z.number().gt(0).lt(1).default(0.95),
  /** seed of the bootstrap */
  seed: z.number().int().default(0),
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
  perType: z.array(
    z.object({ type: z.string(), count: z.number(), auc: z.number(), ci: interval.nullable() }),
  ),
});
export type EvaluationReport = z.infer<typeof evaluationReportSchema>;

const NOTES = {
  val: 'threshold fixed on the validation split before looking at these labels',
  oracle: 'threshold chosen on these very labels (the paper protocol): accuracy/F1 are optimistic',
  fixed: 'threshold given by the user',
};

/**
 * Every number of `report.json` from scored items: AUC, AP, metrics at the threshold, counts,
 * per-anomaly-type AUC (each type against all normals) and percentile-bootstrap CIs. The CIs
 * of threshold metrics hold the threshold fixed (they ignore the uncertainty of choosing it).
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
  const ciOpts = { resamples: opts.resamples, level: opts.level, seed: opts.seed };
  const ci = Object.fromEntries(
    metricNames.map((name) => {
      const c = bootstrapCi(labels, scores, statistics[name], ciOpts);
      return [name, { lower: c.lower, upper: c.upper }];
    }),
  ) as Record<MetricName, { lower: number; upper: number }>;

  const types = [...new Set(items.filter((it) => it.label === 1 && it.type).map((it) => it.type!))].sort();
  const perType = types.map((type) => {
    const subset = items.filter((it) => it.label === 0 || it.type === type);
    const y = subset.map((it) => it.label);
    const s = subset.map((it) => it.score);
    const c = bootstrapCi(y, s, rocAuc, ciOpts);
    return {
      type,
      count: y.length - y.filter((v) => v === 0).length,
      auc: rocAuc(y, s),
      ci: { lower: c.lower, upper: c.upper },
    };
  });

  return {
    format: 'squid-eval-report/1',
    createdAt: new Date().toISOString(),
    source,
    counts: { total: items.length, normal: items.length - anomalous, anomalous },
    metrics: {
      auc: rocAuc(labels, scores),
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
    perType,
  };
}

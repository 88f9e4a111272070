import { checkBinary, type Labels, type Scores } from './validate.js';

/** Confusion counts; "positive" means predicted/labelled anomalous. */
export interface Confusion {
  tp: number;
  fp: number;
  tn: number;
  fn: number;
}

/** Threshold metrics; a ratio with a zero denominator is 0, like sklearn's `zero_division=0`. */
export interface ThresholdMetrics extends Confusion {
  threshold: number;
  accuracy: number;
  f1: number;
  /** sensitivity, true-positive rate */
  recall: number;
  precision: number;
  /** true-negative rate */
  specificity: number;
}

/** Confusion counts when an image is flagged anomalous iff score >= threshold (sklearn's convention). */
export function confusionAt(labels: Labels, scores: Scores, threshold: number): Confusion {
  checkBinary('confusionAt', labels, scores);
  if (Number.isNaN(threshold)) throw new Error('confusionAt: threshold is NaN');
  const c: Confusion = { tp: 0, fp: 0, tn: 0, fn: 0 };
  for (let i = 0; i < labels.length; i++) {
    const flagged = scores[i] >= threshold;
    if (labels[i] === 1) flagged ? c.tp++ : c.fn++;
    else flagged ? c.fp++ : c.tn++;
  }
  return c;
}

const ratio = (a: number, b: number): number => (b === 0 ? 0 : a / b);

/** Accuracy, F1, recall, precision and specificity from confusion counts. */
export function metricsFromConfusion(c: Confusion, threshold: number): ThresholdMetrics {
  const total = c.tp + c.fp + c.tn + c.fn;
  return {
    ...c,
    threshold,
    accuracy: ratio(c.tp + c.tn, total),
    f1: ratio(2 * c.tp, 2 * c.tp + c.fp + c.fn),
    recall: ratio(c.tp, c.tp + c.fn),
    precision: ratio(c.tp, c.tp + c.fp),
    specificity: ratio(c.tn, c.tn + c.fp),
  };
}

/** All threshold metrics for "anomalous iff score >= threshold". */
export function metricsAt(labels: Labels, scores: Scores, threshold: number): ThresholdMetrics {
  return metricsFromConfusion(confusionAt(labels, scores, threshold), threshold);
}

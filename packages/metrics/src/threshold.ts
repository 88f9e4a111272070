import { binaryClfCurve } from './binary-clf-curve.js';
import { metricsFromConfusion, type ThresholdMetrics } from './confusion.js';
import { type Labels, requireBothClasses, type Scores } from './validate.js';

/**
 * How to pick the operating threshold from labelled scores:
 * - `max-accuracy`: the paper's choice (on the test set it is an oracle),
 * - `max-f1`,
 * - `youden`: maximise J = sensitivity + specificity − 1,
 * - `sensitivity`: the highest threshold whose sensitivity reaches `targetSensitivity`.
 */
export type ThresholdMethod = 'max-accuracy' | 'max-f1' | 'youden' | 'sensitivity';

export interface ThresholdChoice {
  method: ThresholdMethod;
  /** only for `sensitivity`, in (0, 1] */
  targetSensitivity?: number;
}

/** A chosen threshold with the metrics it gives on the data it was chosen on. */
export interface SelectedThreshold extends ThresholdMetrics {
  method: ThresholdMethod;
  targetSensitivity?: number;
}

/**
 * Picks a threshold among the observed scores (plus +Infinity, "flag nothing"). Ties in the
 * objective go to the highest threshold, like `np.argmax` over sklearn's decreasing thresholds.
 */
export function selectThreshold(labels: Labels, scores: Scores, choice: ThresholdChoice): SelectedThreshold {
  const curve = binaryClfCurve(labels, scores, 'selectThreshold');
  requireBothClasses('selectThreshold', curve);
  const { positives: P, negatives: N } = curve;
  const { method, targetSensitivity } = choice;
  // Candidate k = 0 is +Infinity (flag nothing); k ≥ 1 is curve index k − 1. Objectives are
  // computed from counts without allocating, since there is one candidate per distinct score.
  const tpAt = (k: number) => (k === 0 ? 0 : curve.tps[k - 1]);
  const fpAt = (k: number) => (k === 0 ? 0 : curve.fps[k - 1]);
  const thresholdAt = (k: number) => (k === 0 ? Number.POSITIVE_INFINITY : curve.thresholds[k - 1]);
  const metricsAtCandidate = (k: number) => {
    const tp = tpAt(k);
    const fp = fpAt(k);
    return metricsFromConfusion({ tp, fp, tn: N - fp, fn: P - tp }, thresholdAt(k));
  };
  const count = curve.thresholds.length + 1;
  let objective: (tp: number, fp: number) => number;
  switch (method) {
    case 'max-accuracy':
      objective = (tp, fp) => tp + N - fp;
      break;
    case 'max-f1':
      objective = (tp, fp) => (tp === 0 ? 0 : (2 * tp) / (tp + fp + P));
      break;
    case 'youden':
      objective = (tp, fp) => tp / P - fp / N;
      break;
    case 'sensitivity': {
      if (targetSensitivity === undefined || !(targetSensitivity > 0 && targetSensitivity <= 1)) {
        throw new Error(
          `selectThreshold: method 'sensitivity' needs targetSensitivity in (0, 1], got ${targetSensitivity}`,
        );
      }
      // Candidates run from high to low threshold, so sensitivity only grows: take the first that reaches it.
      for (let k = 0; k < count; k++) {
        if (tpAt(k) / P >= targetSensitivity - 1e-12)
          return { ...metricsAtCandidate(k), method, targetSensitivity };
      }
      throw new Error('selectThreshold: unreachable, the lowest threshold has sensitivity 1');
    }
    default:
      throw new Error(
        `selectThreshold: unknown method '${method}' (max-accuracy, max-f1, youden, sensitivity)`,
      );
  }
  let best = 0;
  let bestValue = objective(0, 0);
  for (let k = 1; k < count; k++) {
    const v = objective(tpAt(k), fpAt(k));
    if (v > bestValue) {
      best = k;
      bestValue = v;
    }
  }
  return { ...metricsAtCandidate(best), method };
}

import { binaryClfCurve } from './binary-clf-curve.js';
import { type Confusion, metricsFromConfusion, type ThresholdMetrics } from './confusion.js';
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
  const candidates: Array<{ threshold: number; c: Confusion }> = [
    { threshold: Number.POSITIVE_INFINITY, c: { tp: 0, fp: 0, tn: N, fn: P } },
  ];
  for (let i = 0; i < curve.thresholds.length; i++) {
    const tp = curve.tps[i];
    const fp = curve.fps[i];
    candidates.push({ threshold: curve.thresholds[i], c: { tp, fp, tn: N - fp, fn: P - tp } });
  }
  let objective: (m: ThresholdMetrics) => number;
  const { method, targetSensitivity } = choice;
  switch (method) {
    case 'max-accuracy':
      objective = (m) => m.accuracy;
      break;
    case 'max-f1':
      objective = (m) => m.f1;
      break;
    case 'youden':
      objective = (m) => m.recall + m.specificity - 1;
      break;
    case 'sensitivity': {
      if (targetSensitivity === undefined || !(targetSensitivity > 0 && targetSensitivity <= 1)) {
        throw new Error(
          `selectThreshold: method 'sensitivity' needs targetSensitivity in (0, 1], got ${targetSensitivity}`,
        );
      }
      // Candidates run from high to low threshold, so sensitivity only grows: take the first that reaches it.
      for (const { threshold, c } of candidates) {
        const m = metricsFromConfusion(c, threshold);
        if (m.recall >= targetSensitivity - 1e-12) return { ...m, method, targetSensitivity };
      }
      throw new Error('selectThreshold: unreachable, the lowest threshold has sensitivity 1');
    }
    default:
      throw new Error(
        `selectThreshold: unknown method '${method}' (max-accuracy, max-f1, youden, sensitivity)`,
      );
  }
  let best = metricsFromConfusion(candidates[0].c, candidates[0].threshold);
  let bestValue = objective(best);
  for (let k = 1; k < candidates.length; k++) {
    const m = metricsFromConfusion(candidates[k].c, candidates[k].threshold);
    const v = objective(m);
    if (v > bestValue) {
      best = m;
      bestValue = v;
    }
  }
  return { ...best, method };
}

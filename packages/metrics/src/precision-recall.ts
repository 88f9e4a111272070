import { binaryClfCurve } from './binary-clf-curve.js';
import { type Labels, requireBothClasses, type Scores } from './validate.js';

/**
 * A precision-recall curve ordered by increasing threshold, as sklearn's
 * `precision_recall_curve`: precision/recall have one more entry than thresholds, the final
 * point is (recall 0, precision 1).
 */
export interface PrCurve {
  precision: number[];
  recall: number[];
  thresholds: number[];
}

/** Precision-recall curve with scikit-learn >= 1.1 semantics; throws if only one class is present. */
export function precisionRecallCurve(labels: Labels, scores: Scores): PrCurve {
  return prCurve(labels, scores, 'precisionRecallCurve');
}

function prCurve(labels: Labels, scores: Scores, what: string): PrCurve {
  const curve = binaryClfCurve(labels, scores, what);
  requireBothClasses(what, curve);
  const n = curve.tps.length;
  const precision: number[] = [];
  const recall: number[] = [];
  const thresholds: number[] = [];
  for (let i = n - 1; i >= 0; i--) {
    const predicted = curve.tps[i] + curve.fps[i];
    precision.push(predicted === 0 ? 0 : curve.tps[i] / predicted);
    recall.push(curve.tps[i] / curve.positives);
    thresholds.push(curve.thresholds[i]);
  }
  precision.push(1);
  recall.push(0);
  return { precision, recall, thresholds };
}

/** Average precision as scikit-learn's `average_precision_score`: Σ (R_n − R_{n−1}) P_n, no interpolation. */
export function averagePrecision(labels: Labels, scores: Scores): number {
  const { precision, recall } = prCurve(labels, scores, 'averagePrecision');
  let ap = 0;
  for (let i = 0; i + 1 < recall.length; i++) ap -= (recall[i + 1] - recall[i]) * precision[i];
  return ap;
}

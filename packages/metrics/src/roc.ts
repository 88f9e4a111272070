import { binaryClfCurve } from './binary-clf-curve.js';
import { type Labels, requireBothClasses, type Scores } from './validate.js';

/** A ROC curve; thresholds[0] is +Infinity (nothing flagged), as in scikit-learn >= 1.3. */
export interface RocCurve {
  fpr: number[];
  tpr: number[];
  thresholds: number[];
}

export interface RocOptions {
  /** drop points on straight segments, like sklearn's default `drop_intermediate=True` */
  dropIntermediate?: boolean;
}

/** ROC curve with scikit-learn's `roc_curve` semantics (positive = label 1, anomalous if score >= threshold). */
export function rocCurve(labels: Labels, scores: Scores, options: RocOptions = {}): RocCurve {
  return roc(labels, scores, options.dropIntermediate ?? true, 'rocCurve');
}

function roc(labels: Labels, scores: Scores, dropIntermediate: boolean, what: string): RocCurve {
  const curve = binaryClfCurve(labels, scores, what);
  requireBothClasses(what, curve);
  let { fps, tps, thresholds } = curve;
  if (dropIntermediate && fps.length > 2) {
    // sklearn keeps index i+1 where the second difference of fps or tps is non-zero (a corner).
    const keep: number[] = [0];
    for (let i = 0; i + 2 < fps.length; i++) {
      const d2f = fps[i + 2] - 2 * fps[i + 1] + fps[i];
      const d2t = tps[i + 2] - 2 * tps[i + 1] + tps[i];
      if (d2f !== 0 || d2t !== 0) keep.push(i + 1);
    }
    keep.push(fps.length - 1);
    fps = keep.map((i) => curve.fps[i]);
    tps = keep.map((i) => curve.tps[i]);
    thresholds = keep.map((i) => curve.thresholds[i]);
  }
  return {
    fpr: [0, ...fps.map((f) => f / curve.negatives)],
    tpr: [0, ...tps.map((t) => t / curve.positives)],
    thresholds: [Number.POSITIVE_INFINITY, ...thresholds],
  };
}

/** Area under a curve by the trapezoidal rule (sklearn `auc`); x must be monotonic. */
export function trapezoid(x: ArrayLike<number>, y: ArrayLike<number>): number {
  if (x.length !== y.length) throw new Error(`trapezoid: ${x.length} x values but ${y.length} y values`);
  let area = 0;
  for (let i = 1; i < x.length; i++) area += ((x[i] - x[i - 1]) * (y[i] + y[i - 1])) / 2;
  return area;
}

/** ROC AUC as scikit-learn's `roc_auc_score` (ties count half); throws if only one class is present. */
export function rocAuc(labels: Labels, scores: Scores): number {
  const { fpr, tpr } = roc(labels, scores, true, 'rocAuc');
  return trapezoid(fpr, tpr);
}

import { checkBinary, type Labels, type Scores } from './validate.js';

/** True/false positive counts at each distinct score, highest score first (sklearn `_binary_clf_curve`). */
export interface ClfCurve {
  /** false positives when predicting anomalous for score >= thresholds[i] */
  fps: number[];
  /** true positives when predicting anomalous for score >= thresholds[i] */
  tps: number[];
  /** distinct scores, decreasing */
  thresholds: number[];
  positives: number;
  negatives: number;
}

/**
 * Cumulative TP/FP counts over decreasing distinct scores; tied scores form one step, which
 * is what makes ties count half in the AUC, exactly as in scikit-learn.
 */
export function binaryClfCurve(labels: Labels, scores: Scores, what = 'binaryClfCurve'): ClfCurve {
  const counts = checkBinary(what, labels, scores);
  const s = Float64Array.from(scores);
  const order = new Uint32Array(s.length);
  for (let i = 0; i < order.length; i++) order[i] = i;
  order.sort((a, b) => s[b] - s[a]);
  const fps: number[] = [];
  const tps: number[] = [];
  const thresholds: number[] = [];
  let tp = 0;
  for (let k = 0; k < order.length; k++) {
    tp += labels[order[k]];
    const v = s[order[k]];
    // Only the last index of a run of equal scores is a threshold.
    if (k === order.length - 1 || s[order[k + 1]] !== v) {
      tps.push(tp);
      fps.push(k + 1 - tp);
      thresholds.push(v);
    }
  }
  return { fps, tps, thresholds, ...counts };
}

export { binaryClfCurve, type ClfCurve } from './binary-clf-curve.js';
export {
  type BootstrapOptions,
  bootstrapCi,
  type ConfidenceInterval,
  type Statistic,
} from './bootstrap.js';
export {
  type Confusion,
  confusionAt,
  metricsAt,
  metricsFromConfusion,
  type ThresholdMetrics,
} from './confusion.js';
export { averagePrecision, type PrCurve, precisionRecallCurve } from './precision-recall.js';
export { seededRandom } from './random.js';
export { type RocCurve, type RocOptions, rocAuc, rocCurve, trapezoid } from './roc.js';
export { formatMeanStd, type MeanStd, meanStd, quantile } from './summary.js';
export { type PlotOptions, prSvg, rocSvg, type Series, seriesSvg } from './svg.js';
export {
  type SelectedThreshold,
  selectThreshold,
  type ThresholdChoice,
  type ThresholdMethod,
} from './threshold.js';
export type { Labels, Scores } from './validate.js';

export { writeFileAtomicSync as writeFileAtomic } from '@squid-ad/backend';
export {
  compareRuns,
  formatComparison,
  type RunComparison,
  readRunReport,
  reportPathOf,
} from './compare-runs.js';
export type { CliDeps, EvalSplit, LoadImage, LoadRun, OpenSplit, ScoringRun } from './deps.js';
export { type EvaluateCommandOptions, evaluateCommand } from './evaluate-command.js';
export {
  type EvaluationOptions,
  type EvaluationReport,
  evaluationOptionsSchema,
  evaluationReport,
  evaluationReportSchema,
  METRIC_NAMES,
  type MetricName,
  type ThresholdSpec,
} from './evaluation-report.js';
export { expandInputs, IMAGE_EXTENSIONS } from './expand-inputs.js';
export {
  type FigureCommandOptions,
  type FigureImage,
  type FigureImages,
  type FigureJson,
  type FigureRun,
  figureCommand,
} from './figure-command.js';
export { openFolderSplit } from './folder-split.js';
export { absDifference, greyToRgb, heatmapToRgb, inferno } from './heatmap.js';
export {
  drawGrid,
  type GridCell,
  type GridLayout,
  type GridRow,
  type GridSection,
  type GridSpec,
  imageGrid,
} from './image-grid.js';
export { decodePng, encodePng, type RgbImage } from './png-image.js';
export { createProgram, runCli } from './program.js';
export { realDeps } from './real-deps.js';
export { type ReportPage, reportHtml } from './report-html.js';
export { type ScoreCommandOptions, type ScoreLine, scoreCommand } from './score-command.js';
export { scoreHistogramSvg } from './score-histogram.js';
export { scoreImages } from './score-images.js';
export type { ImagePair, ScoredItem } from './scored-item.js';
export { scoresCsv } from './scores-csv.js';
export {
  type EvaluationFiles,
  type EvaluationInput,
  rankByScore,
  writeEvaluation,
} from './write-evaluation.js';

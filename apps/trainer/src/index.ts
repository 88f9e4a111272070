export { buildProgram, runTrainCli, type TrainCliIo } from './program.js';
export { barView, jsonView, type ProgressView, plainView } from './progress.js';
export { deepMerge, resolveTrainConfig, type TrainFlags, trainFlagsSchema } from './resolve-config.js';
export {
  ABLATION_VARIANTS,
  CONTAMINATION_FRACTIONS,
  CONTAMINATION_VARIANTS,
  planStudy,
  ROBUSTNESS_VARIANTS,
  STUDY_KINDS,
  type StudyFlags,
  type StudyKind,
  type StudyPlan,
  type StudyRun,
  type StudyVariant,
  studyFlagsSchema,
} from './study-plan.js';
export type { StudyResult, StudyRow, StudySummaryRow } from './study-report.js';

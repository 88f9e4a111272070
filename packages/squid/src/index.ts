// Public API of @squid-ad/squid. Model side: config, presets, generator, discriminator,
// official checkpoint import. Training side: train*, checkpoint*, run*, score*.
// Everything the browser entry has (model, scoring, inference bundles), plus what reads and
// writes files.
export * from './browser.js';

export {
  type Bundle,
  createBundle,
  type ExportBundleOptions,
  exportBundle,
  readBundleDir,
  writeBundle,
} from './bundle/export-bundle.js';
export {
  type CheckpointFile,
  copyCheckpoint,
  PARTIAL_SUFFIX,
  readCheckpoint,
  readCheckpointMeta,
  removePartials,
  restoreState,
  type StoredTensor,
  saveCheckpoint,
} from './checkpoint.js';
export { loadRun, type SquidRun } from './load-run.js';
export {
  fromOfficialCheckpoint,
  loadOfficialState,
  type OfficialCheckpoint,
  officialStateEntries,
  saveOfficialCheckpoint,
} from './official.js';
export { officialArgsToConfig } from './official-args.js';
export {
  appendMetrics,
  type CheckpointName,
  createRunFolder,
  epochCheckpointName,
  isCheckpointName,
  keptCheckpoints,
  type RunPaths,
  readMetrics,
  readRunConfig,
  runPaths,
  trimMetrics,
} from './run-folder.js';
export { type LockOwner, lockPathOf, RunLock, RunLockedError } from './run-lock.js';
export { initLikePyTorch } from './torch-init.js';
export {
  configDifferences,
  modelConfigOf,
  parseRunConfig,
  pluginOf,
  type RunConfig,
  type RunConfigInput,
  type RunOptions,
  runConfigSchema,
  runOptionsSchema,
  type SquidRunConfig,
} from './train/run-config.js';
export { SquidTrainer, type StepLosses, type StepTimings } from './train/squid-trainer.js';
export {
  type CheckpointMeta,
  type EpochMetrics,
  RunFolderError,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  trainRun,
} from './train/train-run.js';
export { type TrainingData, trainingData } from './train/training-data.js';
export {
  type ImageSet,
  inferSet,
  labelledImageSet,
  normImageSet,
  type ScoreAuc,
  type Validation,
  validate,
} from './train/validate.js';

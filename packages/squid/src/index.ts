// Public API of @squid-ad/squid. Model side: config, presets, generator, discriminator,
// official checkpoint import. Training side: train*, checkpoint*, run*, score*.

export {
  type Bundle,
  createBundle,
  type ExportBundleOptions,
  exportBundle,
  readBundleDir,
  writeBundle,
} from './bundle/export-bundle.js';
export { decodeFloat16, encodeFloat16 } from './bundle/float16.js';
export {
  type BundleFiles,
  type FetchLike,
  fetchBundle,
  type LoadBundleOptions,
  loadBundle,
  type SquidBundle,
} from './bundle/load-bundle.js';
export {
  BUNDLE_MANIFEST,
  type BundleManifest,
  bundleManifestSchema,
  parseBundleManifest,
} from './bundle/manifest.js';
export { scoringState } from './bundle/scoring-state.js';
export {
  type CheckpointFile,
  PARTIAL_SUFFIX,
  readCheckpoint,
  removePartials,
  restoreState,
  type StoredTensor,
  saveCheckpoint,
} from './checkpoint.js';
export {
  type DecoderMemoryConfig,
  decoderMemorySchema,
  type ModelConfig,
  type ModelGeometry,
  modelConfigSchema,
  modelGeometry,
  parseSquidConfig,
  type SquidConfig,
  type SquidConfigInput,
  squidConfigSchema,
  structureProblems,
} from './config.js';
export { type DiscriminatorForwardOptions, SquidDiscriminator } from './discriminator.js';
export { type GeneratorForwardOptions, type GeneratorOutput, SquidGenerator } from './generator.js';
export { loadRun, type RunScores, type SquidRun } from './load-run.js';
export { createSquidModel, type SquidModel } from './model.js';
export {
  fromOfficialCheckpoint,
  loadOfficialState,
  type OfficialCheckpoint,
  officialStateEntries,
  saveOfficialCheckpoint,
} from './official.js';
export { officialArgsToConfig } from './official-args.js';
export { splitPatches, stitchPatches } from './patches.js';
export { getPreset, type PresetName, presets } from './presets.js';
export { cellEdges, DEFAULT_RECON_CELL, type ReconError, reconError } from './recon-error.js';
export {
  appendMetrics,
  type CheckpointName,
  createRunFolder,
  type RunPaths,
  readMetrics,
  readRunConfig,
  runPaths,
} from './run-folder.js';
export { type LockOwner, lockPathOf, RunLock, RunLockedError } from './run-lock.js';
export {
  anomalyScores,
  type DiscriminateOptions,
  type Discrimination,
  discriminate,
  type NormStats,
  normStats,
  SCORE_NAMES,
  type ScoreName,
  type ScoreNorm,
} from './score.js';
export { initLikePyTorch } from './torch-init.js';
export {
  configDifferences,
  parseRunConfig,
  type RunConfig,
  type RunConfigInput,
  type RunOptions,
  runConfigSchema,
  runOptionsSchema,
} from './train/run-config.js';
export {
  NonFiniteLossError,
  SquidTrainer,
  type StepLosses,
  type StepTimings,
} from './train/squid-trainer.js';
export {
  type CheckpointMeta,
  type EpochMetrics,
  RunFolderError,
  type TrainOptions,
  type TrainProgress,
  type TrainResult,
  trainSquid,
} from './train/train-squid.js';
export { type TrainingData, trainingData } from './train/training-data.js';
export {
  type ImageSet,
  labelledImageSet,
  normImageSet,
  type ScoreAuc,
  type Validation,
  validate,
} from './train/validate.js';

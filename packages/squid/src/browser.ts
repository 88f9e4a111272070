// The browser entry of @squid-ad/squid (the `browser` export condition): the model, scoring and
// inference bundles, without a `node:` import. Training, run folders, checkpoints and the
// official-checkpoint import read and write files: Node only.

// The plug-in interface, so a user of SQUID alone needs no second import.
export {
  type AnyModelPlugin,
  type ModelInstance,
  type ModelPlugin,
  type ModelTrainer,
  NonFiniteLossError,
} from '@squid-ad/model-api';
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
  type AblationConfig,
  ablationProblems,
  ablationSchema,
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
export {
  type GeneratorForwardOptions,
  type GeneratorOutput,
  type GeneratorParts,
  SquidGenerator,
} from './generator.js';
export { type BatchInference, calibratedScores, type InferBatchOptions, inferBatch } from './infer-batch.js';
export { createSquidModel, type SquidModel } from './model.js';
export { splitPatches, stitchPatches } from './patches.js';
export { getPreset, type PresetName, presets } from './presets.js';
export { cellEdges, DEFAULT_RECON_CELL, type ReconError, reconError } from './recon-error.js';
export type { RunScores } from './score.js';
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
  squidInfer,
} from './score.js';
export { squidInstance, squidModel } from './squid-plugin.js';

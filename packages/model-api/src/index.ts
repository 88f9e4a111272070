// Public API of @squid-ad/model-api: the interface every squid anomaly detector implements
// (SQUID and the baselines), the config pieces they share, and a conformance check.
export { type ConformanceReport, checkImages, checkModelPlugin } from './conformance.js';
export {
  type AnyModelPlugin,
  type BaseModelConfig,
  baseConfigSchema,
  checkFinite,
  type Inference,
  type ModelInstance,
  type ModelPlugin,
  type ModelTrainer,
  NonFiniteLossError,
  PRESET_IMAGE_SIZE,
  PRESET_NAMES,
  type PresetName,
  type RawStats,
  type RunRecipe,
  recipeOf,
  type StepPosition,
  type TrainSchedule,
  trainScheduleSchema,
} from './model-plugin.js';

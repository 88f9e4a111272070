export { buildProgram, runTrainCli, type TrainCliIo } from './program.js';
export { barView, jsonView, type ProgressView, plainView } from './progress.js';
export { deepMerge, resolveTrainConfig, type TrainFlags, trainFlagsSchema } from './resolve-config.js';

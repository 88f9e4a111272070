export { Adam, type AdamOptions, type AdamParam } from './adam.js';
export { BatchNorm2d, type BatchNormApplyOptions, type NormStats } from './batch-norm.js';
export { Conv2d, type Conv2dOptions } from './conv2d.js';
export { cosineLr } from './cosine-schedule.js';
export { pytorchUniform } from './init.js';
export { LayerNorm } from './layer-norm.js';
export { Linear } from './linear.js';

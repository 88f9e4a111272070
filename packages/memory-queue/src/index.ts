export type { BlockApplyOptions } from './apply-options.js';
export { bernoulliMask, type MaskSource, maskedMix } from './bernoulli-mask.js';
export { Addressing, MemoryBlockConfig, MemoryConfig } from './config.js';
export { gumbelShrink, hardShrinkRelu, l1Normalize, type ShrinkMode, shrinkMode } from './gumbel-shrink.js';
export { MemoryMatrix, type MemoryMatrixOptions } from './memory-matrix.js';
export { MemoryMatrixBlock } from './memory-matrix-block.js';
export { type MemoryBlockOptions, MemoryMatrixBlockV3 } from './memory-matrix-block-v3.js';
export { MemoryQueue, type MemoryQueueOptions } from './memory-queue.js';
export { type MemoryRead, readMemory } from './read-memory.js';

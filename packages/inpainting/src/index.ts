export { InpaintConfig } from './config.js';
export { type InpaintApplyOptions, InpaintBlock, type InpaintBlockOptions } from './inpaint-block.js';
export { type AttentionResult, MultiheadAttention } from './multihead-attention.js';
export { NEIGHBOUR_OFFSETS, neighbourSelection, patchNeighbours } from './patch-neighbours.js';
export { positionBits, positionCode } from './position-code.js';

import type { tf } from './tf.js';

// What markConstant forwards to: the oneDNN kernels' registry while they are enabled, else nothing.
let forward: ((tensors: readonly tf.Tensor[]) => void) | undefined;

/**
 * Promises that `tensors` will not change while they live (the weights of a model loaded for
 * scoring, never of one being trained). With the oneDNN kernels in bfloat16, matMuls and
 * convolutions then convert them to bf16 once instead of on every call; elsewhere (float32, wasm
 * or cpu alone, a browser) nothing changes.
 */
export function markConstant(tensors: readonly tf.Tensor[]): void {
  forward?.(tensors);
}

/** Where markConstant goes: set by initBackend when the native kernels are on. */
export function setConstantTarget(target: ((tensors: readonly tf.Tensor[]) => void) | undefined): void {
  forward = target;
}

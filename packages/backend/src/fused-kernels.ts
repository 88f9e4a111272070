/**
 * Fused Adam update in place on float32 buffers of equal length (PyTorch's order of float32
 * operations). `k` = [β1, 1−β1, β2, 1−β2, weight decay, √(1−β2^t), eps, lr/(1−β1^t)].
 */
export type FusedAdamKernel = (
  param: Float32Array,
  expAvg: Float32Array,
  expAvgSq: Float32Array,
  grad: Float32Array,
  k: Float32Array,
) => void;

let adam: FusedAdamKernel | undefined;

/**
 * Installs (or, with `undefined`, removes) a native fused Adam kernel; `@squid-ad/backend-onednn`
 * does this when its addon loads, and `Adam` in `@squid-ad/gan-core` uses it.
 */
export function setFusedAdamKernel(kernel: FusedAdamKernel | undefined): void {
  adam = kernel;
}

/** The installed fused Adam kernel, if any. */
export function fusedAdamKernel(): FusedAdamKernel | undefined {
  return adam;
}

/**
 * Optional TF.js kernel: training-mode BatchNorm on NHWC `x` with batch statistics (biased
 * variance) and an optional fused ReLU. Inputs `{ x, gamma, beta }`, attrs `{ eps, relu }`,
 * outputs `[y, mean, variance]`. Registered by `@squid-ad/backend-onednn` for wasm and cpu.
 */
export const BATCH_NORM_TRAIN = 'SquidBatchNormTrain';

/**
 * Its gradient: inputs `{ x, dy, gamma, beta, mean, variance, y? }` (`y` when the forward applied
 * ReLU), attrs `{ eps }`, outputs `[dx, dgamma, dbeta]`.
 */
export const BATCH_NORM_TRAIN_GRAD = 'SquidBatchNormTrainGrad';

import { tf } from './tf.js';

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

let adam: { kernel: FusedAdamKernel; backends: readonly string[] | null } | undefined;

/**
 * Installs (or, with `undefined`, removes) a native fused Adam kernel; `@squid-ad/backend-onednn`
 * does this when its addon loads, and `Adam` in `@squid-ad/gan-core` uses it. `backends` limits it
 * to the TF.js backends whose weight-reading kernels it has replaced too: the update writes the
 * parameters in place, and tfjs-backend-wasm's own conv and matMul kernels keep XNNPACK's packed
 * copy of a weight per tensor, so they would go on computing with the old values.
 */
export function setFusedAdamKernel(kernel: FusedAdamKernel | undefined, backends?: readonly string[]): void {
  adam = kernel ? { kernel, backends: backends ?? null } : undefined;
}

/** The installed fused Adam kernel, if any and if it serves the active backend. */
export function fusedAdamKernel(): FusedAdamKernel | undefined {
  if (!adam) return undefined;
  return adam.backends === null || adam.backends.includes(tf.getBackend()) ? adam.kernel : undefined;
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

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

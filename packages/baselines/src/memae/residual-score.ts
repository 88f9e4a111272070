import { tf } from '@squid-ad/backend';

/**
 * MemAE's test score (script_testing.py, MemAE path) per image `[B]`: the residual's norm across
 * channels at every pixel, `√(Σ_c (x̂ − x)²)`, averaged over the pixels. In the units the inputs
 * are given in (the model's [−1, 1]); with one channel it is the mean |x̂ − x|.
 */
export function residualNormScore(recon: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.sqrt(tf.sum(tf.squaredDifference(recon, x), 3)), [1, 2]) as tf.Tensor1D);
}

/**
 * The SQUID authors' MemAE score (main_baseline.py `mse_val`) per image `[B]`: the mean over all
 * pixels and channels of `√((x̂ − x)²)`, i.e. the mean absolute error.
 */
export function meanAbsError(recon: tf.Tensor4D, x: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(recon, x)), [1, 2, 3]) as tf.Tensor1D);
}

import { tf } from '@squid-ad/backend';

/**
 * Per-image mean squared error `[B]`: mean over pixels (and channels) of (a − b)². The AE's
 * score on [0, 1] images, as the official MemAE repository scores its plain-AE path (mean squared
 * residual, script_testing.py, ModelName 'AE').
 */
export function perImageMse(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(() => tf.mean(tf.squaredDifference(a, b), [1, 2, 3]) as tf.Tensor1D);
}

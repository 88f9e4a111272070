import { tf } from '@squid-ad/backend';

/** The two per-image terms of the izi_f loss and of the anomaly score. */
export interface IzifTerms {
  /** `[B]`: mean over pixels of (x − G(E(x)))² */
  residual: tf.Tensor1D;
  /** `[B]`: mean over the critic's features of (f(x) − f(G(E(x))))² */
  feature: tf.Tensor1D;
}

/**
 * Per-image residual and feature terms (anomaly_detection.py `MSE(..., axis=1)`), from the
 * images `[B, 64, 64, 1]` and their reconstructions in [−1, 1] and the critic features `[B, F]`.
 */
export function izifTerms(
  x: tf.Tensor4D,
  recon: tf.Tensor4D,
  fx: tf.Tensor2D,
  fRecon: tf.Tensor2D,
): IzifTerms {
  return tf.tidy(() => ({
    residual: tf.mean(tf.squaredDifference(x, recon), [1, 2, 3]) as tf.Tensor1D,
    feature: tf.mean(tf.squaredDifference(fx, fRecon), 1) as tf.Tensor1D,
  }));
}

/** The f-AnoGAN anomaly score A(x) = A_R(x) + κ·A_D(x) per image `[B]` (higher = more anomalous). */
export function izifScore(terms: IzifTerms, kappa: number): tf.Tensor1D {
  return tf.tidy(() => tf.add(terms.residual, tf.mul(terms.feature, kappa)) as tf.Tensor1D);
}

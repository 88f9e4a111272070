import { tf } from '@squid-ad/backend';
import { bceWithLogits } from '@squid-ad/gan-core';

/** L_adv: mean squared difference of D's features of real and fake images (lib/model.py `l2_loss`). */
export function featureMatchingLoss(featReal: tf.Tensor, featFake: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(featReal, featFake)) as tf.Scalar);
}

/** L_con: mean |x − x̂| (PyTorch `L1Loss()`). */
export function contextualLoss(x: tf.Tensor, fake: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(fake, x))) as tf.Scalar);
}

/** L_enc: mean (ẑ − z)² over batch and latent (lib/model.py `l2_loss(latent_o, latent_i)`). */
export function encoderLoss(latentI: tf.Tensor, latentO: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.squaredDifference(latentO, latentI)) as tf.Scalar);
}

/**
 * L_D = ½ [BCE(D(x), 1) + BCE(D(x̂), 0)], from D's logits. Equal to the official `BCELoss` on the
 * sigmoid outputs wherever the sigmoid does not saturate in float32; there PyTorch clamps
 * log(p) at −100 and its gradient vanishes, while the logit form stays exact.
 */
export function discriminatorLoss(logitReal: tf.Tensor, logitFake: tf.Tensor): tf.Scalar {
  return tf.tidy(
    () => tf.mul(tf.add(bceWithLogits(logitReal, 1), bceWithLogits(logitFake, 0)), 0.5) as tf.Scalar,
  );
}

/** GANomaly's anomaly score per image: mean over the nz entries of (z − ẑ)², `[B, 1, 1, nz]` → `[B]`. */
export function latentDistance(latentI: tf.Tensor4D, latentO: tf.Tensor4D): tf.Tensor1D {
  return tf.tidy(
    () => tf.reshape(tf.mean(tf.squaredDifference(latentI, latentO), [1, 2, 3]), [-1]) as tf.Tensor1D,
  );
}

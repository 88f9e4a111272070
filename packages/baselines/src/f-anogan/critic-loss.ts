import { tf } from '@squid-ad/backend';

/** A critic as a function: images `[B, H, W, C]` → scores `[B]`. */
export type CriticFn = (x: tf.Tensor4D) => tf.Tensor1D;

/**
 * The WGAN-GP gradient penalty mean_b (‖∇ₓ D(x̃_b)‖₂ − 1)² at the points `interpolates`, the
 * norm over all of an image's pixels (wgangp_64x64.py: tf.gradients of D's outputs, slopes over
 * the 4096 values). The gradient is taken inside the graph so that the penalty itself can be
 * differentiated w.r.t. the critic's weights (second order).
 */
export function gradientPenalty(critic: CriticFn, interpolates: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const grad = tf.grad((x) => tf.sum(critic(x as tf.Tensor4D)))(interpolates);
    const slopes = tf.sqrt(tf.sum(tf.square(grad), [1, 2, 3]));
    return tf.mean(tf.square(tf.sub(slopes, 1))) as tf.Scalar;
  });
}

/** The terms of the WGAN-GP critic loss of one batch. */
export interface CriticLossTerms {
  /** mean D(fake) − mean D(real) + λ·penalty: what the critic minimises */
  loss: tf.Scalar;
  /** mean D(real) − mean D(fake): the critic's estimate of the Wasserstein distance */
  wasserstein: tf.Scalar;
  penalty: tf.Scalar;
}

/**
 * The official WGAN-GP critic loss (wgangp_64x64.py): mean D(G(z)) − mean D(x) + λ·GP at
 * x̃ = x + α·(G(z) − x), `alpha` `[B]` one U(0, 1) draw per sample.
 */
export function criticLoss(
  critic: CriticFn,
  real: tf.Tensor4D,
  fake: tf.Tensor4D,
  alpha: tf.Tensor1D,
  lambda: number,
): CriticLossTerms {
  return tf.tidy(() => {
    const wasserstein = tf.sub(tf.mean(critic(real)), tf.mean(critic(fake))) as tf.Scalar;
    const a = alpha.reshape([-1, 1, 1, 1]);
    const interpolates = tf.add(real, tf.mul(a, tf.sub(fake, real))) as tf.Tensor4D;
    const penalty = gradientPenalty(critic, interpolates);
    const loss = tf.add(tf.neg(wasserstein), tf.mul(penalty, lambda)) as tf.Scalar;
    return { loss, wasserstein, penalty };
  });
}

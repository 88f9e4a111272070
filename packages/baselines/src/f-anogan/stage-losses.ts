import { tf } from '@squid-ad/backend';
import { izifTerms } from './anomaly-score.js';
import type { Critic } from './critic.js';
import type { Encoder } from './encoder.js';
import type { Generator } from './generator.js';
import type { NormMode } from './residual-block.js';

/** Moving batch-norm statistics (tf.layers `training=False`): scoring, and G in stage 2. */
export const RUNNING: NormMode = { stats: 'running', update: false };

/** The WGAN-GP generator loss −mean D(G(z)) (wgangp_64x64.py `gen_cost`). */
export function generatorLoss(
  generator: Generator,
  critic: Critic,
  z: tf.Tensor2D,
  mode: NormMode,
): tf.Scalar {
  return tf.tidy(() => tf.neg(tf.mean(critic.apply(generator.apply(z, mode)))) as tf.Scalar);
}

/** The izi_f encoder loss of a batch and its two terms. */
export interface EncoderLossTerms {
  loss: tf.Scalar;
  /** MSE(x, G(E(x))) */
  img: tf.Scalar;
  /** MSE(f(x), f(G(E(x)))) */
  fts: tf.Scalar;
}

/**
 * L_E = MSE(x, G(E(x))) + κ·MSE(f(x), f(G(E(x)))) (z_encoding_izif.py, loss_type 'MSE'), G on its
 * moving statistics, E in `mode`; `fx` = f(x), which does not depend on E.
 */
export function encoderLoss(
  nets: { generator: Generator; critic: Critic; encoder: Encoder },
  x: tf.Tensor4D,
  fx: tf.Tensor2D,
  kappa: number,
  mode: NormMode,
): EncoderLossTerms {
  return tf.tidy(() => {
    const recon = nets.generator.apply(nets.encoder.apply(x, mode), RUNNING);
    const terms = izifTerms(x, recon, fx, nets.critic.features(recon));
    const img = tf.mean(terms.residual) as tf.Scalar;
    const fts = tf.mean(terms.feature) as tf.Scalar;
    return { loss: tf.add(img, tf.mul(fts, kappa)) as tf.Scalar, img, fts };
  });
}

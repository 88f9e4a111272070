import { tf } from '@squid-ad/backend';
import { klToStandardNormal } from './gaussian-latent.js';

/** The terms of the negative ELBO, each per image `[B]`. */
export interface NegElboTerms {
  /** −log p(x | z) up to a constant: Σ_pixels (x − x̂)² / (2 σ_x²) */
  recon: tf.Tensor1D;
  /** KL(q(z | x) ‖ N(0, I)) */
  kl: tf.Tensor1D;
  /** recon + kl */
  total: tf.Tensor1D;
}

/**
 * Gaussian decoder's reconstruction term per image `[B]`: Σ over pixels of (x − x̂)² / (2 σ_x²),
 * the negative log-likelihood of N(x̂, σ_x² I) without its constant (P/2)·log(2π σ_x²).
 * Summed, not averaged, over pixels: averaging would shrink it by the pixel count against the KL.
 */
export function gaussianReconTerm(recon: tf.Tensor4D, x: tf.Tensor4D, variance: number): tf.Tensor1D {
  return tf.tidy(
    () => tf.div(tf.sum(tf.squaredDifference(recon, x), [1, 2, 3]), 2 * variance) as tf.Tensor1D,
  );
}

/**
 * Negative ELBO per image of a VAE with a Gaussian decoder of fixed variance σ_x² and a standard
 * normal prior: {@link gaussianReconTerm} of x̂ = dec(z) plus KL(N(μ, σ²) ‖ N(0, I)).
 */
export function negElbo(
  recon: tf.Tensor4D,
  x: tf.Tensor4D,
  mu: tf.Tensor,
  logVar: tf.Tensor,
  variance: number,
): NegElboTerms {
  return tf.tidy(() => {
    const r = gaussianReconTerm(recon, x, variance);
    const kl = klToStandardNormal(mu, logVar);
    return { recon: r, kl, total: tf.add(r, kl) as tf.Tensor1D };
  });
}

import { type Rng, tf } from '@squid-ad/backend';

/**
 * The reparameterisation trick (Kingma & Welling 2014, §2.4): z = μ + σ ⊙ ε with σ = exp(½ log σ²),
 * so that z is differentiable in μ and log σ² for a fixed ε ~ N(0, I).
 */
export function reparameterise(mu: tf.Tensor, logVar: tf.Tensor, eps: tf.Tensor): tf.Tensor {
  return tf.tidy(() => tf.add(mu, tf.mul(tf.exp(tf.mul(logVar, 0.5)), eps)));
}

/**
 * KL(N(μ, σ²) ‖ N(0, I)) per image `[B]`, in closed form (Kingma & Welling, appendix B):
 * −½ Σ_j (1 + log σ_j² − μ_j² − σ_j²), summed over every axis but the first.
 */
export function klToStandardNormal(mu: tf.Tensor, logVar: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const axes = mu.shape.slice(1).map((_, i) => i + 1);
    const inner = tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mu)), tf.exp(logVar));
    return tf.mul(tf.sum(inner, axes), -0.5) as tf.Tensor1D;
  });
}

/**
 * ε ~ N(0, I) of `shape`, drawn from the trainer's seeded Rng in JS (Box–Muller), so that the
 * draws are the same on every backend and a resumed run continues them exactly.
 */
export function standardNormal(shape: number[], rng: Rng): tf.Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.normal();
  return tf.tensor(data, shape, 'float32');
}

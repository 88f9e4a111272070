import { type Rng, tf } from '@squid-ad/backend';

/**
 * PyTorch's default initialisation for Conv2d and Linear (kaiming_uniform with a = √5, which
 * reduces to U(±1/√fan_in), and the same bound for the bias), drawn from a seeded Rng.
 */
export function pytorchUniform(shape: number[], fanIn: number, rng: Rng): tf.Tensor {
  const bound = 1 / Math.sqrt(fanIn);
  return tf.randomUniform(shape, -bound, bound, 'float32', rng.tfSeed());
}

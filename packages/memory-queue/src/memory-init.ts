import { type Rng, tf } from '@squid-ad/backend';

/** The official memory initialisation: uniform(±1/√dim), drawn from a seeded Rng. */
export function memoryInit(slots: number, dim: number, rng: Rng): tf.Tensor2D {
  const bound = 1 / Math.sqrt(dim);
  return tf.randomUniform([slots, dim], -bound, bound, 'float32', rng.tfSeed()) as tf.Tensor2D;
}

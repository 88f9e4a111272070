import { type Rng, tf } from '@squid-ad/backend';

/** A float 0/1 tensor whose entries are 1 with probability `p` (PyTorch `torch.bernoulli(p)`), seeded by `rng`. */
export function bernoulliMask(shape: number[], p: number, rng: Rng): tf.Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulliMask: probability must be in [0, 1], got ${p}`);
  return tf.tidy(() =>
    tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', rng.tfSeed()), p), 'float32'),
  );
}

/**
 * SQUID's training-time spatial mix for `[B, H, W, C]` tensors: per location, keep `out` with
 * probability `ratio`, else take `input` (one mask value shared by all channels).
 */
export function maskedMix(out: tf.Tensor4D, input: tf.Tensor4D, ratio: number, rng: Rng): tf.Tensor4D {
  if (out.shape.join() !== input.shape.join()) {
    throw new Error(`maskedMix: output [${out.shape}] and input [${input.shape}] differ in shape`);
  }
  return tf.tidy(() => {
    const [b, h, w] = out.shape;
    const mask = bernoulliMask([b, h, w, 1], ratio, rng);
    return tf.add(tf.mul(out, mask), tf.mul(input, tf.sub(1, mask))) as tf.Tensor4D;
  });
}

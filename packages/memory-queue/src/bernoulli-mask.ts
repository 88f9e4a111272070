import { type Rng, tf } from '@squid-ad/backend';

/** A float 0/1 tensor whose entries are 1 with probability `p` (PyTorch `torch.bernoulli(p)`), seeded by `rng`. */
export function bernoulliMask(shape: number[], p: number, rng: Rng): tf.Tensor {
  if (!(p >= 0 && p <= 1)) throw new Error(`bernoulliMask: probability must be in [0, 1], got ${p}`);
  return tf.tidy(() =>
    tf.cast(tf.less(tf.randomUniform(shape, 0, 1, 'float32', rng.tfSeed()), p), 'float32'),
  );
}

/**
 * Supplies the training-time keep masks in place of the Bernoulli draws: called once per masked
 * block, in forward order, with the mask shape `[B, H, W, 1]`; returns 0/1 floats of that shape.
 * For replaying masks recorded from the official code; training draws its own.
 */
export type MaskSource = (shape: [number, number, number, 1]) => tf.Tensor;

/**
 * SQUID's training-time spatial mix for `[B, H, W, C]` tensors: per location, keep `out` with
 * probability `ratio`, else take `input` (one mask value shared by all channels). The mask is
 * drawn from `rng`, or taken from `masks` when given.
 */
export function maskedMix(
  out: tf.Tensor4D,
  input: tf.Tensor4D,
  ratio: number,
  rng: Rng,
  masks?: MaskSource,
): tf.Tensor4D {
  if (out.shape.join() !== input.shape.join()) {
    throw new Error(`maskedMix: output [${out.shape}] and input [${input.shape}] differ in shape`);
  }
  return tf.tidy(() => {
    const [b, h, w] = out.shape;
    const shape: [number, number, number, 1] = [b, h, w, 1];
    const mask = masks ? masks(shape) : bernoulliMask(shape, ratio, rng);
    if (mask.shape.join() !== shape.join())
      throw new Error(`maskedMix: the mask source gave [${mask.shape}], expected [${shape}]`);
    return tf.add(tf.mul(out, mask), tf.mul(input, tf.sub(1, mask))) as tf.Tensor4D;
  });
}

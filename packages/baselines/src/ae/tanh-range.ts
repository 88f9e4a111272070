import { tf } from '@squid-ad/backend';

/** [0, 1] images → [−1, 1], the range of a tanh decoder (PyTorch `Normalize(0.5, 0.5)`). */
export function toTanhRange(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D);
}

/** [−1, 1] → [0, 1], the range squid shows and compares reconstructions in. */
export function fromTanhRange(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.mul(tf.add(x, 1), 0.5) as tf.Tensor4D);
}

import { tf } from '@squid-ad/backend';

/**
 * Per-channel sum of an NHWC tensor `[..., C]` → `[C]`, as a `ones · X` matrix product:
 * TensorFlow.js reduces over leading axes by transposing first, which on wasm costs ~50× more
 * than one GEMM.
 */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const m = x.size / c;
    return tf.matMul(tf.ones([1, m]), x.reshape([m, c])).reshape([c]) as tf.Tensor1D;
  });
}

/** `y + bias` over the channel axis, with the bias gradient as a {@link channelSum}. */
export function addChannelBias<T extends tf.Tensor>(y: T, bias: tf.Tensor): T {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [t, b] = args as [tf.Tensor, tf.Tensor];
    return {
      value: tf.add(t, b),
      gradFunc: (dy: tf.Tensor) => [dy, channelSum(dy)],
    };
  });
  return op(y, bias) as T;
}

import { tf } from '@squid-ad/backend';

/** Rows per first-stage window: the largest power of two dividing the row count, up to this. */
const MAX_WINDOW = 512;
/** Fewer rows than this go straight to the `ones · X` product. */
const MIN_WINDOW = 16;

/**
 * Per-channel sum of an NHWC tensor `[..., C]` → `[C]`. TensorFlow.js reduces over leading axes
 * by transposing first (~50× one pass on wasm), and a `ones · X` product makes X the GEMM's
 * packed operand, which XNNPACK repacks on every call, single-threaded (~20 ms for
 * [147456, 32]). So the rows are summed in two stages: an average pool over windows of k rows
 * (a power of two, so ×k is exact), threaded and one pass over X, then `ones · means` on the
 * m/k window means.
 */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  return tf.tidy(() => {
    const c = x.shape[x.rank - 1];
    const m = x.size / c;
    let k = 1;
    while (k < MAX_WINDOW && m % (k * 2) === 0) k *= 2;
    if (k < MIN_WINDOW) return tf.matMul(tf.ones([1, m]), x.reshape([m, c])).reshape([c]) as tf.Tensor1D;
    const windows = x.reshape([m / k, k, 1, c]) as tf.Tensor4D;
    const means = tf.avgPool(windows, [k, 1], [k, 1], 'valid').reshape([m / k, c]); // [m/k, C]
    return tf
      .matMul(tf.ones([1, m / k]), means)
      .reshape([c])
      .mul(k) as tf.Tensor1D;
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

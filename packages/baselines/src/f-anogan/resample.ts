import { tf } from '@squid-ad/backend';

/**
 * Nearest-neighbour ×2 upsampling `[B, H, W, C]` → `[B, 2H, 2W, C]`: tflib's UpsampleConv
 * resampling (four copies of the map along channels, then depth_to_space), which puts each
 * pixel in a 2×2 block. Written as concat + reshape, whose gradients (slice, reshape) are
 * themselves differentiable: tfjs has no gradient for DepthToSpace.
 */
export function upsampleNearest2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    // Channels [x, x] then reshape: each pixel twice along the width.
    const wide = tf.concat([x, x], 3).reshape([b * h, 1, 2 * w * c]);
    // Rows [r, r]: each row twice along the height.
    return tf.concat([wide, wide], 1).reshape([b, 2 * h, 2 * w, c]) as tf.Tensor4D;
  });
}

/**
 * 2×2 mean pooling with stride 2 `[B, H, W, C]` → `[B, H/2, W/2, C]` (H, W even): tflib's
 * MeanPoolConv / ConvMeanPool resampling (the mean of the four strided slices). The forward is
 * tfjs's avgPool (one fast kernel); its gradient is written as ¼ · {@link upsampleNearest2}(dy)
 * instead of the AvgPoolGrad kernel, which has no gradient of its own: the gradient penalty
 * differentiates this gradient again.
 */
export function meanPool2(x: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor4D];
    const [, h, w] = input.shape;
    if (h % 2 !== 0 || w % 2 !== 0) throw new Error(`meanPool2: needs even sides, got ${h}×${w}`);
    return {
      value: tf.avgPool(input, 2, 2, 'valid'),
      gradFunc: (dy: tf.Tensor) => tf.mul(upsampleNearest2(dy as tf.Tensor4D), 0.25),
    };
  });
  return op(x) as tf.Tensor4D;
}

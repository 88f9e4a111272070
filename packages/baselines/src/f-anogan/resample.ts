import { tf } from '@squid-ad/backend';

/**
 * Nearest-neighbour ×2 upsampling `[B, H, W, C]` → `[B, 2H, 2W, C]`: tflib's UpsampleConv
 * resampling (four copies of the map along channels, then depth_to_space), which puts each
 * pixel in a 2×2 block; written as concat + reshape (tfjs has no gradient for DepthToSpace).
 * Its gradient, the sum over each 2×2 block, is 4·avgPool (one kernel; the concat's own
 * gradient splits along a middle axis, ~40× slower on the cpu backend). That gradient is not
 * differentiable again, and needs not be: the gradient penalty differentiates
 * {@link meanPool2}'s gradient (this function) once more, never this one's.
 */
export function upsampleNearest2(x: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [input] = args as [tf.Tensor4D];
    const [b, h, w, c] = input.shape;
    // Channels [x, x] then reshape: each pixel twice along the width; rows [r, r]: twice along the height.
    const wide = tf.concat([input, input], 3).reshape([b * h, 1, 2 * w * c]);
    return {
      value: tf.concat([wide, wide], 1).reshape([b, 2 * h, 2 * w, c]),
      gradFunc: (dy: tf.Tensor) => tf.mul(tf.avgPool(dy as tf.Tensor4D, 2, 2, 'valid'), 4),
    };
  });
  return op(x) as tf.Tensor4D;
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

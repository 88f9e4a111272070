import { tf } from './tf.js';

/**
 * Identity in the forward pass, zero gradient in the backward pass (PyTorch's `.detach()`);
 * TensorFlow.js has no such op.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  // tfjs types the custom function's arguments as a union of tensors and the save function.
  const detach = tf.customGrad(((input: tf.Tensor) => ({
    value: input.clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return detach(x) as T;
}

import { tf } from './tf.js';

/**
 * Identity in the forward pass, zero gradient in the backward pass (PyTorch's `.detach()`);
 * TensorFlow.js has no such op.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  const detach = tf.customGrad((input: tf.Tensor) => ({
    value: input.clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  }));
  return detach(x) as T;
}

import { tf } from './tf.js';

/** The tfjs-core engine internals a tape-free alias needs (not in its public typings). */
interface EngineInternals {
  state: { tensorInfo: { get(dataId: object): { backend: tf.KernelBackend } | undefined } };
  makeTensorFromTensorInfo(info: tf.TensorInfo, backend?: tf.KernelBackend): tf.Tensor;
}

/**
 * Identity in the forward pass, zero gradient in the backward pass (PyTorch's `.detach()`);
 * TensorFlow.js has no such op.
 */
export function stopGradient<T extends tf.Tensor>(x: T): T {
  if (x.isDisposed) throw new Error('stopGradient: the tensor is disposed');
  if (x.dtype !== 'float32') {
    // tfjs rejects any non-float gradient on the tape, even a zero one, so an int tensor (topk
    // indices fed to gather) must leave the tape entirely: a second handle on the same data,
    // made outside any kernel, is invisible to it.
    const engine = tf.engine() as unknown as EngineInternals;
    const info = engine.state.tensorInfo.get(x.dataId);
    if (!info) throw new Error('stopGradient: the tensor has no data');
    info.backend.incRef(x.dataId);
    return engine.makeTensorFromTensorInfo(
      { dataId: x.dataId, shape: x.shape, dtype: x.dtype },
      info.backend,
    ) as T;
  }
  // tfjs types the custom function's arguments as a union of tensors and the save function.
  const detach = tf.customGrad(((input: tf.Tensor) => ({
    value: input.clone(),
    gradFunc: (dy: tf.Tensor) => tf.zerosLike(dy),
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return detach(x) as T;
}

import { tf } from './tf.js';

/** What the wasm and cpu backends expose of their storage (not in tfjs-core's public typings). */
interface BackendStorage {
  refCount?(dataId: object): number;
  /** wasm: a view of the tensor's bytes on the wasm heap. */
  typedArrayFromHeap?(info: tf.TensorInfo): Float32Array;
  /** cpu: the tensor's values. */
  data?: { get(dataId: object): { values?: unknown } | undefined };
}

interface EngineInternals {
  state: { tensorInfo: WeakMap<object, { backend: BackendStorage }> };
}

/**
 * A Float32Array on `backend`'s own storage of a float32 tensor, without copying: the wasm heap
 * or the cpu backend's values; `undefined` for other backends. On wasm the view is detached
 * when the heap grows: use it before the backend allocates anything else.
 */
export function storageView(backend: unknown, info: tf.TensorInfo): Float32Array | undefined {
  if (info.dtype !== 'float32') return undefined;
  const b = backend as BackendStorage;
  if (typeof b.typedArrayFromHeap === 'function') return b.typedArrayFromHeap(info);
  const values = b.data?.get(info.dataId)?.values;
  return values instanceof Float32Array && values.length === tf.util.sizeFromShape(info.shape)
    ? values
    : undefined;
}

/**
 * {@link storageView} of a tensor, for kernels written outside TF.js (a fused optimizer update).
 * With `writable`, `undefined` also when another tensor shares the buffer (a clone, a reshape,
 * a tensor saved for backprop), so that writing in place cannot change anything but `t`.
 */
export function float32Storage(t: tf.Tensor, options: { writable?: boolean } = {}): Float32Array | undefined {
  if (t.isDisposed) return undefined;
  const engine = tf.engine() as unknown as EngineInternals;
  const backend = engine.state.tensorInfo.get(t.dataId)?.backend;
  if (!backend) return undefined;
  if (options.writable && backend.refCount?.(t.dataId) !== 1) return undefined;
  return storageView(backend, t);
}

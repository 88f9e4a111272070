import { tf } from './tf.js';

/** The tfjs-core engine internals the measurement hooks into (tfjs-core 4.22.0). */
interface EngineInternals {
  state: { tensorInfo: WeakMap<object, { bytes: number }> };
  trackTensor(t: tf.Tensor, backend?: tf.KernelBackend): void;
  removeDataId(dataId: object, backend: tf.KernelBackend): void;
}

/** What {@link measurePeakMemory} saw, in bytes of tensor data relative to the start of `fn`. */
export interface PeakMemory<T> {
  result: T;
  /** Most bytes allocated beyond the start at any moment while `fn` ran. */
  peakBytes: number;
  /** Bytes allocated beyond the start when it returned (negative if it freed more). */
  endBytes: number;
}

/**
 * Runs `fn` and reports the peak of tensor data it added. Unlike `tf.memory().numBytes` (and
 * `tf.profile`'s `peakBytes`), a buffer shared by several tensors (a clone, a reshape, a tensor
 * saved for backprop) counts once, so this is memory the backend really holds.
 */
export function measurePeakMemory<T>(fn: () => T): PeakMemory<T> {
  const engine = tf.engine() as unknown as EngineInternals;
  const info = engine.state.tensorInfo;
  let live = 0;
  let peakBytes = 0;
  const { trackTensor, removeDataId } = engine;
  engine.trackTensor = function (this: EngineInternals, t, backend) {
    const isNew = !info.has(t.dataId);
    trackTensor.call(this, t, backend);
    if (isNew) {
      live += info.get(t.dataId)?.bytes ?? 0;
      if (live > peakBytes) peakBytes = live;
    }
  };
  engine.removeDataId = function (this: EngineInternals, dataId, backend) {
    live -= info.get(dataId)?.bytes ?? 0;
    removeDataId.call(this, dataId, backend);
  };
  try {
    const result = fn();
    return { result, peakBytes, endBytes: live };
  } finally {
    engine.trackTensor = trackTensor;
    engine.removeDataId = removeDataId;
  }
}

import type { tf } from './tf.js';

/** The parts of tfjs-backend-wasm's backend this kernel uses. */
interface WasmBackendRefs {
  incRef(dataId: object): void;
}

/**
 * `Identity` that shares its input's buffer (reference-counted, as tfjs-backend-wasm's own
 * Reshape and the cpu backend's Identity do). The stock wasm kernel copies, and tfjs calls it
 * for every `clone()` and for every tensor a kernel saves for backprop: a training step kept a
 * copy of each saved activation and of each weight (the whole model) on the wasm heap. No wasm
 * kernel writes into its inputs, so sharing is safe.
 */
export const wasmIdentityKernel: tf.KernelConfig = {
  kernelName: 'Identity',
  backendName: 'wasm',
  kernelFunc: ({ inputs, backend }) => {
    const x = inputs.x as tf.TensorInfo;
    if (x.dtype === 'string') throw new Error('Identity: string tensors are not supported on wasm');
    (backend as unknown as WasmBackendRefs).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  },
};

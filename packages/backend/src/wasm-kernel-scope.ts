import { tf } from './tf.js';

type TensorInfo = tf.TensorInfo;
type NamedAttrMap = tf.NamedAttrMap;

/**
 * The part of tfjs-backend-wasm's `BackendWasm` our kernels use (the class is not exported from
 * the package's public API).
 */
export interface WasmBackend extends tf.KernelBackend {
  disposeData(dataId: object, force?: boolean): boolean;
  makeOutput(shape: number[], dtype: tf.DataType): TensorInfo;
  typedArrayFromHeap(info: TensorInfo): Float32Array | Int32Array | Uint8Array;
}

/** Runs another wasm kernel from inside a kernel; `inputs` may be any TensorInfo. */
export type RunKernel = (
  name: string,
  inputs: Record<string, TensorInfo>,
  attrs?: NamedAttrMap,
) => TensorInfo;

/**
 * Runs `body` with a `run` function that calls wasm kernels directly (no engine, no tape) and
 * frees every intermediate it produced (or was handed through `adopt`) except the returned one. Kernels composed from kernels
 * must free intermediates themselves: the engine only tracks what a kernel returns.
 */
export function withKernelScope(
  backend: WasmBackend,
  body: (run: RunKernel, adopt: (info: TensorInfo) => TensorInfo) => TensorInfo,
): TensorInfo {
  const made: TensorInfo[] = [];
  const adopt = (info: TensorInfo) => {
    made.push(info);
    return info;
  };
  const run: RunKernel = (name, inputs, attrs = {}) => {
    const kernel = tf.getKernel(name, 'wasm');
    if (!kernel) throw new Error(`@squid-ad/backend: wasm has no ${name} kernel`);
    const out = kernel.kernelFunc({ inputs, attrs, backend }) as TensorInfo;
    made.push(out);
    return out;
  };
  let result: TensorInfo | undefined;
  try {
    result = body(run, adopt);
    return result;
  } finally {
    // Each produced info holds one reference (reshape returns the same dataId with incRef), so
    // release one per info, except the result's own reference.
    let kept = false;
    for (const info of made) {
      if (!kept && info === result) {
        kept = true;
        continue;
      }
      backend.disposeData(info.dataId);
    }
  }
}

// Scalar arithmetic on the wasm backend that uses every thread.
//
// Why: tfjs-backend-wasm 4.22 runs Add/Sub/Multiply/RealDiv through XNNPACK's binary operators,
// which split the work across threads over every output dimension except the innermost one.
// XNNPACK first merges the dimensions the two operands share, so `x · scalar` (like `x + y` of
// one shape) collapses to one dimension: one task, one thread. Viewing x as [R, C] against the
// scalar repeated C times keeps R as an outer dimension: the same float operations per element
// (bit-identical), spread over R. Same-shape operands have no such view and stay as they are.
import { tf } from './tf.js';
import type { WasmBackend } from './wasm-kernel-scope.js';

type TensorInfo = tf.TensorInfo;
interface KernelArgs {
  inputs: { a?: TensorInfo; b?: TensorInfo };
  backend: WasmBackend;
  attrs?: tf.NamedAttrMap;
}
type KernelFn = (args: KernelArgs) => TensorInfo;

/** Below this many elements one thread is as fast (the pool's wake-up costs more). */
const MIN_ELEMENTS = 1 << 16;
/** Row lengths tried for the [R, C] view, longest first. */
const ROW_LENGTHS = [1024, 512, 256, 128, 64, 32, 16];
export const SCALAR_BROADCAST_KERNELS = ['Add', 'Sub', 'Multiply', 'RealDiv'] as const;

const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

function withScalarRows(original: KernelFn): KernelFn {
  return (args) => {
    const { a, b } = args.inputs;
    if (!a || !b || a.dtype !== 'float32' || b.dtype !== 'float32') return original(args);
    const scalarIsA = size(a.shape) === 1;
    const big = scalarIsA ? b : a;
    const scalar = scalarIsA ? a : b;
    const n = size(big.shape);
    if (size(scalar.shape) !== 1 || n < MIN_ELEMENTS || scalar.shape.length > big.shape.length) {
      return original(args);
    }
    const c = ROW_LENGTHS.find((len) => n % len === 0);
    if (c === undefined) return original(args);
    const { backend } = args;
    const repeated = backend.makeOutput([c], 'float32');
    // Views after makeOutput: allocating may grow (and so detach) the wasm heap.
    const value = backend.typedArrayFromHeap(scalar)[0];
    (backend.typedArrayFromHeap(repeated) as Float32Array).fill(value);
    try {
      const rows: TensorInfo = { dataId: big.dataId, shape: [n / c, c], dtype: 'float32' };
      const inputs = scalarIsA ? { a: repeated, b: rows } : { a: rows, b: repeated };
      const out = original({ ...args, inputs });
      out.shape = big.shape.slice();
      return out;
    } finally {
      backend.disposeData(repeated.dataId);
    }
  };
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Replaces the wasm Add, Sub, Multiply and RealDiv kernels with ones that spread a large tensor's
 * arithmetic with a scalar over the thread pool. Idempotent; a no-op before
 * `@tensorflow/tfjs-backend-wasm` is imported.
 */
export function installWasmScalarBroadcast(): void {
  for (const name of SCALAR_BROADCAST_KERNELS) {
    if (stockKernels.has(name)) continue;
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) continue;
    stockKernels.set(name, stock);
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      ...stock,
      kernelFunc: withScalarRows(stock.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc,
    });
  }
}

/** The kernel tfjs-backend-wasm registered before {@link installWasmScalarBroadcast} (for tests). */
export function stockWasmBinary(
  name: (typeof SCALAR_BROADCAST_KERNELS)[number],
): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

// Slice, Unpack and SplitV on the wasm backend without copying the whole input per call.
//
// Why: tfjs-backend-wasm 4.22's Slice is JavaScript that starts with `backend.readSync(x)`,
// which for wasm is `HEAPU8.slice(...)`: a copy of the entire input for every slice. Unpack
// (tf.unstack) calls it once per output, so unstacking a [9, 200, 16384] memory bank copies
// 9 × 118 MB; inputs of rank > 4 also fall to a per-element loop. SplitV (tf.split, and the
// gradient of every concat) slices the same way once per part. These kernels read the input
// through a view of the wasm heap and copy only the selected elements, in contiguous runs.
import { tf } from './tf.js';

type DataId = object;
interface TensorInfo {
  dataId: DataId;
  shape: number[];
  dtype: string;
}
type Typed = Float32Array | Int32Array | Uint8Array;
/** The parts of tfjs-backend-wasm's BackendWasm these kernels use. */
interface WasmBackend {
  makeOutput(shape: number[], dtype: string): TensorInfo;
  typedArrayFromHeap(t: TensorInfo): Typed;
}
interface KernelArgs {
  inputs: Record<string, TensorInfo>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}
type KernelFn = (args: KernelArgs) => TensorInfo | TensorInfo[];

/** Copies the box `begin`/`size` of `src` (row-major `shape`) into `dst`, one contiguous run at a time. */
export function copyBox(src: Typed, shape: number[], begin: number[], size: number[], dst: Typed): void {
  const rank = shape.length;
  if (rank === 0) {
    dst[0] = src[0];
    return;
  }
  // Trailing axes taken whole merge into the run of the last partial axis `d`.
  let d = rank - 1;
  let inner = 1;
  while (d > 0 && begin[d] === 0 && size[d] === shape[d]) {
    inner *= shape[d];
    d--;
  }
  const run = size[d] * inner;
  const strides = new Array<number>(rank);
  strides[rank - 1] = 1;
  for (let i = rank - 2; i >= 0; i--) strides[i] = strides[i + 1] * shape[i + 1];
  let outer = 1;
  for (let i = 0; i < d; i++) outer *= size[i];
  const idx = new Array<number>(d).fill(0);
  let o = 0;
  for (let r = 0; r < outer; r++) {
    let off = begin[d] * strides[d];
    for (let i = 0; i < d; i++) off += (begin[i] + idx[i]) * strides[i];
    dst.set(src.subarray(off, off + run), o);
    o += run;
    for (let i = d - 1; i >= 0; i--) {
      if (++idx[i] < size[i]) break;
      idx[i] = 0;
    }
  }
}

function sliceWith(stock: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs.x;
    if (x.dtype === 'string') return stock(args);
    const { begin, size } = args.attrs as { begin: number | number[]; size?: number | number[] };
    const [b, s] = tf.slice_util.parseSliceParams(x as unknown as tf.TensorInfo, begin, size);
    const out = args.backend.makeOutput(s, x.dtype);
    if (s.some((v) => v === 0)) return out;
    // Views taken after makeOutput: its malloc may grow (and so replace) the heap buffer.
    copyBox(args.backend.typedArrayFromHeap(x), x.shape, b, s, args.backend.typedArrayFromHeap(out));
    return out;
  };
}

function unpackWith(slice: KernelFn, stock: KernelFn): KernelFn {
  return (args) => {
    const value = args.inputs.value;
    if (value.dtype === 'string') return stock(args);
    const rank = value.shape.length;
    let axis = Number(args.attrs.axis ?? 0);
    if (axis < 0) axis += rank;
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = value.shape.slice();
    size[axis] = 1;
    const outs: TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]; i++) {
      const begin = new Array<number>(rank).fill(0);
      begin[axis] = i;
      const out = slice({
        inputs: { x: value },
        backend: args.backend,
        attrs: { begin, size },
      }) as TensorInfo;
      outs.push({ dataId: out.dataId, dtype: out.dtype, shape: outShape });
    }
    return outs;
  };
}

function splitVWith(slice: KernelFn, stock: KernelFn): KernelFn {
  return (args) => {
    const x = args.inputs.x;
    if (x.dtype === 'string') return stock(args);
    const { numOrSizeSplits, axis } = args.attrs as {
      numOrSizeSplits: number | number[];
      axis: number | number[];
    };
    const ax = tf.util.parseAxisParam(axis, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(x as unknown as tf.Tensor, numOrSizeSplits, ax);
    const begin = new Array<number>(x.shape.length).fill(0);
    return sizes.map((part) => {
      const size = x.shape.slice();
      size[ax] = part;
      const out = slice({
        inputs: { x },
        backend: args.backend,
        attrs: { begin: begin.slice(), size },
      }) as TensorInfo;
      begin[ax] += part;
      return out;
    });
  };
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Replaces the wasm `Slice`, `Unpack` and `SplitV` kernels with ones that copy only the selected
 * elements. Idempotent; a no-op before `@tensorflow/tfjs-backend-wasm` is imported.
 */
export function installWasmSlice(): void {
  if (stockKernels.size > 0) return;
  const stockSlice = tf.getKernel('Slice', 'wasm');
  const stockUnpack = tf.getKernel('Unpack', 'wasm');
  const stockSplitV = tf.getKernel('SplitV', 'wasm');
  if (!stockSlice || !stockUnpack || !stockSplitV) return;
  const slice = sliceWith(stockSlice.kernelFunc as unknown as KernelFn);
  const unpack = unpackWith(slice, stockUnpack.kernelFunc as unknown as KernelFn);
  const splitV = splitVWith(slice, stockSplitV.kernelFunc as unknown as KernelFn);
  for (const [stock, kernelFunc] of [
    [stockSlice, slice],
    [stockUnpack, unpack],
    [stockSplitV, splitV],
  ] as const) {
    stockKernels.set(stock.kernelName, stock);
    tf.unregisterKernel(stock.kernelName, 'wasm');
    tf.registerKernel({ ...stock, kernelFunc: kernelFunc as unknown as tf.KernelFunc });
  }
}

/** The kernel tfjs-backend-wasm registered before {@link installWasmSlice} (for benchmarks). */
export function stockWasmSlice(name: 'Slice' | 'Unpack' | 'SplitV'): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

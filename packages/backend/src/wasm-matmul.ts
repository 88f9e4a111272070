// Matrix products on the wasm backend that always reach XNNPACK's fully-connected operator.
//
// Why: tfjs-backend-wasm 4.22.0 (src/cc/batch_mat_mul_impl.cc) only uses XNNPACK when
// transposeA = transposeB = false AND both operands have batch size 1; everything else runs a
// scalar blocked triple loop that is neither SIMD nor threaded (10-30x slower). Autograd emits
// transposed products for every matMul gradient and attention uses batched ones. These kernels
// replace BatchMatMul and _FusedMatMul: transposed operands are materialised with the wasm
// Transpose kernel (O(n²) copy vs O(n³) product), a batched `a` against a shared `b` is folded
// into the row dimension, and truly batched products run one fast call per batch on zero-copy
// views of the operands and the output.
import { tf } from './tf.js';
import { defineHeapTask, heapOf, runHeapTask } from './wasm-heap-workers.js';

type DataId = object;
interface TensorInfo {
  dataId: DataId;
  shape: number[];
  dtype: string;
}
interface WasmData {
  id: number;
  memoryOffset: number;
  shape: number[];
  dtype: string;
  refCount: number;
}
interface WasmModule {
  cwrap(name: string, ret: null, args: string[]): (...args: unknown[]) => void;
  tfjs: {
    registerTensor(id: number, size: number, memoryOffset: number): void;
    disposeData(id: number): void;
  };
}
/** The parts of tfjs-backend-wasm's BackendWasm these kernels use (not exported by the package). */
interface WasmBackend {
  wasm: WasmModule;
  dataIdMap: { get(dataId: DataId): WasmData };
  dataIdNextNumber: number;
  makeOutput(shape: number[], dtype: string): TensorInfo;
  disposeData(dataId: DataId): boolean;
  typedArrayFromHeap(t: TensorInfo): Float32Array | Int32Array | Uint8Array;
}
interface KernelArgs {
  inputs: Record<string, TensorInfo | undefined>;
  backend: WasmBackend;
  attrs: Record<string, unknown>;
}
type KernelFn = (args: KernelArgs) => TensorInfo;

const F32 = 4;
/** Multiply-adds per row below which the stock loop beats per-batch XNNPACK calls (see stockIsCheaper). */
const SMALL_PRODUCT = 16_384;
// Values of tfjs-backend-wasm's FusableActivation enum (kernels/types.js).
const ACTIVATIONS: Record<string, number> = {
  linear: 0,
  relu: 1,
  relu6: 2,
  prelu: 3,
  leakyrelu: 4,
  sigmoid: 5,
  elu: 6,
};

interface Entry {
  matMul: (...args: unknown[]) => void;
  fusedMatMul: (...args: unknown[]) => void;
}
const bound = new WeakMap<WasmModule, Entry>();

/** cwraps the exported C kernels once per wasm module (a re-initialised backend has a new one). */
function wasmFns(backend: WasmBackend): Entry {
  let entry = bound.get(backend.wasm);
  if (!entry) {
    const n = 'number';
    const a = 'array';
    entry = {
      matMul: backend.wasm.cwrap('BatchMatMul', null, [n, a, n, n, a, n, n, n, n]),
      fusedMatMul: backend.wasm.cwrap('_FusedMatMul', null, [n, a, n, n, a, n, n, n, n, n, n, n, n]),
    };
    bound.set(backend.wasm, entry);
  }
  return entry;
}

const shapeBytes = (shape: number[]) => new Uint8Array(new Int32Array(shape).buffer);
const size = (shape: number[]) => shape.reduce((p, d) => p * d, 1);

/**
 * A tensor id registered with the C side over `length` floats of existing memory, so a batch
 * slice can be handed to a kernel without copying. Released with {@link releaseView}; the memory
 * stays owned by the parent tensor.
 */
function view(backend: WasmBackend, parent: TensorInfo, offsetElems: number, length: number): number {
  const id = backend.dataIdNextNumber++;
  const base = backend.dataIdMap.get(parent.dataId).memoryOffset;
  backend.wasm.tfjs.registerTensor(id, length, base + offsetElems * F32);
  return id;
}

/** Unregisters a view; this also frees the XNNPACK operator the C side cached for it. */
function releaseView(backend: WasmBackend, id: number): void {
  backend.wasm.tfjs.disposeData(id);
}

const idOf = (backend: WasmBackend, t: TensorInfo) => backend.dataIdMap.get(t.dataId).id;

/**
 * Batched `[rows, cols]` → `[cols, rows]` for tiles [lo, hi) of T rows (numbered across the
 * batch); args = [src, dst (float offsets), rows, cols, T].
 */
const TRANSPOSE_TILES = defineHeapTask((heap, args, lo, hi) => {
  const src = args[0];
  const dst = args[1];
  const rows = args[2];
  const cols = args[3];
  const T = args[4];
  const tilesPerMatrix = Math.ceil(rows / T);
  for (let t = lo; t < hi; t++) {
    const b = Math.floor(t / tilesPerMatrix);
    const base = b * rows * cols;
    const i0 = (t - b * tilesPerMatrix) * T;
    const i1 = Math.min(i0 + T, rows);
    for (let j0 = 0; j0 < cols; j0 += T) {
      const j1 = Math.min(j0 + T, cols);
      for (let i = i0; i < i1; i++) {
        let s = src + base + i * cols + j0;
        let d = dst + base + j0 * rows + i;
        for (let j = j0; j < j1; j++, s++, d += rows) heap[d] = heap[s];
      }
    }
  }
});

/**
 * `[..., r, c]` → `[..., c, r]`; the caller disposes it. A blocked copy through the heap, split
 * over the wasm threads: the wasm Transpose kernel walks the output in order and strides through
 * the input, about 2x slower on matrices that do not fit in cache.
 */
function transposeLast2(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const rank = x.shape.length;
  const rows = x.shape[rank - 2];
  const cols = x.shape[rank - 1];
  const out = backend.makeOutput([...x.shape.slice(0, -2), cols, rows], x.dtype);
  // The heap view after makeOutput: its malloc may grow (and so replace) the heap buffer.
  const { heap, offset } = heapOf(backend);
  const T = 32;
  const tiles = size(x.shape.slice(0, -2)) * Math.ceil(rows / T);
  runHeapTask(TRANSPOSE_TILES, heap, [offset(x), offset(out), rows, cols, T], tiles, T * cols);
  return out;
}

interface Product {
  /** `[Ba, M, K]` row-major, Ba = product of a's batch dims. */
  a: TensorInfo;
  /** `[Bb, K, N]` row-major. */
  b: TensorInfo;
  batchA: number;
  batchB: number;
  m: number;
  k: number;
  n: number;
  /** Temporaries (materialised transposes) to dispose after the product. */
  temps: TensorInfo[];
}

/** `op(a) @ op(b)` with any transposes materialised as `[B, M, K] @ [B, K, N]`. */
function prepare(backend: WasmBackend, a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): Product {
  const temps: TensorInfo[] = [];
  let a2 = a;
  let b2 = b;
  if (tA) {
    a2 = transposeLast2(backend, a);
    temps.push(a2);
  }
  if (tB) {
    b2 = transposeLast2(backend, b);
    temps.push(b2);
  }
  const ra = a2.shape.length;
  const rb = b2.shape.length;
  return {
    a: a2,
    b: b2,
    batchA: size(a2.shape.slice(0, -2)),
    batchB: size(b2.shape.slice(0, -2)),
    m: a2.shape[ra - 2],
    k: a2.shape[ra - 1],
    n: b2.shape[rb - 1],
    temps,
  };
}

function outShapeOf(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): number[] {
  const ra = a.shape.length;
  const rb = b.shape.length;
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  const m = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const innerA = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const innerB = tB ? b.shape[rb - 1] : b.shape[rb - 2];
  if (innerA !== innerB) {
    throw new Error(
      `matMul: inner dimensions ${innerA} and ${innerB} of shapes [${a.shape}] and [${b.shape}] ` +
        `(transposeA=${tA}, transposeB=${tB}) must match`,
    );
  }
  return [...outer, m, n];
}

/**
 * Runs `call(aId, aShape, bId, bShape, outId)` so that every C call sees batch size 1 and no
 * transposes (the XNNPACK path). `out` is `[B, M, N]` contiguous.
 */
function runFast(
  backend: WasmBackend,
  p: Product,
  out: TensorInfo,
  call: (aId: number, aShape: number[], bId: number, bShape: number[], outId: number) => void,
): void {
  const { m, k, n, batchA, batchB } = p;
  if (batchB === 1) {
    // A shared b: every batch of a is just more rows of one [Ba·M, K] matrix.
    call(idOf(backend, p.a), [1, batchA * m, k], idOf(backend, p.b), [1, k, n], idOf(backend, out));
    return;
  }
  const batch = Math.max(batchA, batchB);
  for (let i = 0; i < batch; i++) {
    const ids: number[] = [];
    const aId = batchA === 1 ? idOf(backend, p.a) : view(backend, p.a, i * m * k, m * k);
    if (batchA !== 1) ids.push(aId);
    const bId = view(backend, p.b, i * k * n, k * n);
    const oId = view(backend, out, i * m * n, m * n);
    ids.push(bId, oId);
    try {
      call(aId, [1, m, k], bId, [1, k, n], oId);
    } finally {
      for (const id of ids) releaseView(backend, id);
    }
  }
}

/**
 * Whether op(a)·op(b) `[M, K]·[K, N]` is cheaper as (op(b)ᵀ·op(a)ᵀ)ᵀ. Counts the floats each
 * formulation copies per batch: materialised transposes, XNNPACK's packing of the weights
 * operand (K·N, or K·M swapped) and, swapped, the transpose of the [N, M] result. Products
 * without transposes stay direct, where XNNPACK caches the packed `b` across calls.
 */
function preferSwapped(a: TensorInfo, b: TensorInfo, tA: boolean, tB: boolean): boolean {
  if (!tA && !tB) return false;
  const ra = a.shape.length;
  const rb = b.shape.length;
  const m = tA ? a.shape[ra - 1] : a.shape[ra - 2];
  const k = tA ? a.shape[ra - 2] : a.shape[ra - 1];
  const n = tB ? b.shape[rb - 2] : b.shape[rb - 1];
  const direct = (tA ? m * k : 0) + (tB ? k * n : 0) + k * n;
  const swapped = (tB ? 0 : k * n) + (tA ? 0 : m * k) + k * m + m * n;
  return swapped < direct;
}

/**
 * Batched products the stock scalar loop does faster than one XNNPACK call per batch (each
 * creates an operator, packs its `b` and, with threads, wakes the pool): tiny products, at most
 * SMALL_PRODUCT multiply-adds per row of a batch (e.g. attention over 8 tokens). The choice
 * never looks at the row count M: the two loops round differently, and a row of the result must
 * not depend on how many rows share the call (batched scoring equals per-image scoring bit for
 * bit). XNNPACK is also the faster one for a few rows against a large batched `b` (a memory read
 * of one image, [9, 1, 200]·[9, 200, 1024]: 31 ms stock, 19 ms XNNPACK with 5 rows, one thread).
 */
function stockIsCheaper(a: TensorInfo, b: TensorInfo, tA: boolean, outShape: number[]): boolean {
  if (size(b.shape.slice(0, -2)) <= 1) return false; // one call, and XNNPACK caches b's packing
  const n = outShape[outShape.length - 1];
  const k = tA ? a.shape[a.shape.length - 2] : a.shape[a.shape.length - 1];
  return k * n <= SMALL_PRODUCT;
}

function usable(a: TensorInfo, b: TensorInfo): boolean {
  if (a.dtype !== 'float32' || b.dtype !== 'float32') return false;
  // Degenerate shapes: leave them to the stock kernel, which handles them.
  return size(a.shape) > 0 && size(b.shape) > 0;
}

function makeBatchMatMul(original: KernelFn): KernelFn {
  return (args) => {
    const { backend, attrs } = args;
    const a = args.inputs.a!;
    const b = args.inputs.b!;
    if (!usable(a, b)) return original(args);
    const tA = Boolean(attrs.transposeA);
    const tB = Boolean(attrs.transposeB);
    const outShape = outShapeOf(a, b, tA, tB);
    if (stockIsCheaper(a, b, tA, outShape)) return original(args);
    const { matMul } = wasmFns(backend);
    const call = (aId: number, aShape: number[], bId: number, bShape: number[], outId: number) =>
      matMul(aId, shapeBytes(aShape), 3, bId, shapeBytes(bShape), 3, false, false, outId);
    if (preferSwapped(a, b, tA, tB)) {
      // op(a)·op(b) = (op(b)ᵀ·op(a)ᵀ)ᵀ, where op(b)ᵀ and op(a)ᵀ are the stored layouts of the
      // transposed operands: this moves less memory when the operand XNNPACK packs as weights
      // would otherwise be the big one (e.g. a [2, K] against b [200, K]ᵀ).
      const swapped = prepare(backend, b, a, !tB, !tA);
      try {
        const product = backend.makeOutput(
          [Math.max(swapped.batchA, swapped.batchB), swapped.m, swapped.n],
          'float32',
        );
        try {
          runFast(backend, swapped, product, call);
          const out = transposeLast2(backend, product);
          out.shape = outShape;
          return out;
        } finally {
          backend.disposeData(product.dataId);
        }
      } finally {
        for (const t of swapped.temps) backend.disposeData(t.dataId);
      }
    }
    const p = prepare(backend, a, b, tA, tB);
    try {
      const out = backend.makeOutput([Math.max(p.batchA, p.batchB), p.m, p.n], 'float32');
      runFast(backend, p, out, call);
      out.shape = outShape;
      return out;
    } finally {
      for (const t of p.temps) backend.disposeData(t.dataId);
    }
  };
}

function makeFusedMatMul(original: KernelFn): KernelFn {
  return (args) => {
    const { backend, attrs } = args;
    const { a, b, bias, preluActivationWeights: prelu } = args.inputs as Record<string, TensorInfo>;
    const activation = ACTIVATIONS[String(attrs.activation ?? 'linear')];
    if (!usable(a, b) || activation === undefined || (bias && bias.shape.length !== 1)) return original(args);
    const tA = Boolean(attrs.transposeA);
    const tB = Boolean(attrs.transposeB);
    const outShape = outShapeOf(a, b, tA, tB);
    const p = prepare(backend, a, b, tA, tB);
    try {
      const batch = Math.max(p.batchA, p.batchB);
      // Per-batch calls apply the PReLU weights to one [M, N] block at a time, which is only
      // right when they repeat with that period.
      if (batch > 1 && p.batchB > 1 && prelu && (p.m * p.n) % size(prelu.shape) !== 0) {
        return original({
          ...args,
          inputs: { ...args.inputs, a: p.a, b: p.b },
          attrs: { ...attrs, transposeA: false, transposeB: false },
        });
      }
      const out = backend.makeOutput([batch, p.m, p.n], 'float32');
      const { fusedMatMul } = wasmFns(backend);
      const biasId = bias ? idOf(backend, bias) : 0;
      const preluId = prelu ? idOf(backend, prelu) : 0;
      const alpha = Number(attrs.leakyreluAlpha ?? 0);
      runFast(backend, p, out, (aId, aShape, bId, bShape, outId) =>
        fusedMatMul(
          aId,
          shapeBytes(aShape),
          3,
          bId,
          shapeBytes(bShape),
          3,
          false,
          false,
          activation,
          biasId,
          preluId,
          alpha,
          outId,
        ),
      );
      out.shape = outShape;
      return out;
    } finally {
      for (const t of p.temps) backend.disposeData(t.dataId);
    }
  };
}

const stockKernels = new Map<string, tf.KernelConfig>();

/** The kernel tfjs-backend-wasm registered under `name` before {@link installWasmMatMul} (for benchmarks). */
export function stockWasmMatMul(name: 'BatchMatMul' | '_FusedMatMul'): tf.KernelConfig | undefined {
  return stockKernels.get(name);
}

/**
 * Replaces the wasm `BatchMatMul` and `_FusedMatMul` kernels with ones that never take the
 * scalar slow path (transposed or batched operands). Idempotent; a no-op before
 * `@tensorflow/tfjs-backend-wasm` is imported.
 */
export function installWasmMatMul(): void {
  const kernels: [string, (original: KernelFn) => KernelFn][] = [
    ['BatchMatMul', makeBatchMatMul],
    ['_FusedMatMul', makeFusedMatMul],
  ];
  for (const [name, make] of kernels) {
    if (stockKernels.has(name)) continue;
    const stock = tf.getKernel(name, 'wasm');
    if (!stock) continue;
    stockKernels.set(name, stock);
    const original = stock.kernelFunc as unknown as KernelFn;
    tf.unregisterKernel(name, 'wasm');
    tf.registerKernel({
      kernelName: name,
      backendName: 'wasm',
      // The stock setup binds the stock kernel's C function; keep it for the fallbacks.
      setupFunc: stock.setupFunc,
      disposeFunc: stock.disposeFunc,
      kernelFunc: make(original) as unknown as tf.KernelFunc,
    });
  }
}

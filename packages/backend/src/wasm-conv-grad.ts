// Conv2D gradients for the wasm backend, built from wasm's XNNPACK convolution. Stock
// tfjs-backend-wasm 4.22 has no Conv2DBackpropFilter at all and a scalar C++ loop for
// Conv2DBackpropInput; both gradients are convolutions in disguise, so we let XNNPACK do them.
import { tf } from './tf.js';
import { defineHeapTask, heapOf, runHeapTask } from './wasm-heap-workers.js';
import { type RunKernel, type WasmBackend, withKernelScope } from './wasm-kernel-scope.js';

type TensorInfo = tf.TensorInfo;
type Pad = tf.backend_util.ExplicitPadding | 'same' | 'valid' | number;

interface GradAttrs {
  strides: number | [number, number];
  pad: Pad;
  dataFormat?: 'NHWC' | 'NCHW';
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
  dilations?: number | [number, number];
}

function checkSupported(kernel: string, attrs: GradAttrs): void {
  if (attrs.dataFormat !== undefined && attrs.dataFormat !== 'NHWC') {
    throw new Error(
      `@squid-ad/backend wasm ${kernel}: dataFormat ${attrs.dataFormat} is not supported (use NHWC)`,
    );
  }
  const d = attrs.dilations;
  if (d !== undefined && (Array.isArray(d) ? d.some((v) => v !== 1) : d !== 1)) {
    throw new Error(`@squid-ad/backend wasm ${kernel}: dilation ${d} > 1 is not supported in conv gradients`);
  }
}

/** Explicit conv padding `[[0,0],[t,b],[l,r],[0,0]]` for the wasm Conv2D kernel. */
function explicit(top: number, bottom: number, left: number, right: number): tf.backend_util.ExplicitPadding {
  return [
    [0, 0],
    [top, bottom],
    [left, right],
    [0, 0],
  ];
}

/**
 * Pads (positive) or crops (negative) the spatial dims of an NHWC tensor for a convolution:
 * crops with Slice, returns the non-negative remainder as conv padding.
 */
function cropForConv(
  run: RunKernel,
  x: TensorInfo,
  [top, bottom, left, right]: [number, number, number, number],
): { x: TensorInfo; pad: tf.backend_util.ExplicitPadding } {
  const [n, h, w, c] = x.shape;
  const ct = Math.max(0, -top);
  const cb = Math.max(0, -bottom);
  const cl = Math.max(0, -left);
  const cr = Math.max(0, -right);
  const cropped =
    ct + cb + cl + cr === 0
      ? x
      : run('Slice', { x }, { begin: [0, ct, cl, 0], size: [n, h - ct - cb, w - cl - cr, c] });
  return {
    x: cropped,
    pad: explicit(Math.max(0, top), Math.max(0, bottom), Math.max(0, left), Math.max(0, right)),
  };
}

/** `[A, B, C]` → `[C, B, A]` for rows j of B in [lo, hi); args = [src, dst (float offsets), A, B, C]. */
const SWAP_OUTER_INNER = defineHeapTask((heap, args, lo, hi) => {
  const src = args[0];
  const dst = args[1];
  const a = args[2];
  const b = args[3];
  const c = args[4];
  const srcRow = b * c; // stride of A in the input
  const dstRow = b * a; // stride of C in the output
  for (let j = lo; j < hi; j++) {
    for (let k = 0; k < c; k++) {
      let s = src + j * c + k;
      const d0 = dst + k * dstRow + j * a;
      for (let i = 0; i < a; i++, s += srcRow) heap[d0 + i] = heap[s];
    }
  }
});

/** `[A, B, C]` → `[B, A, C]` for rows j of B in [lo, hi); args = [src, dst (float offsets), A, B, C]. */
const SWAP_OUTER_PAIR = defineHeapTask((heap, args, lo, hi) => {
  const src = args[0];
  const dst = args[1];
  const a = args[2];
  const b = args[3];
  const c = args[4];
  for (let j = lo; j < hi; j++) {
    for (let i = 0; i < a; i++) {
      const s = src + (i * b + j) * c;
      heap.copyWithin(dst + (j * a + i) * c, s, s + c);
    }
  }
});

/**
 * `[N, H, W, C]` → `[H, W, N, C]`: rows of C copied whole, split over the wasm threads (wasm's
 * Transpose computes an offset per element, single-threaded).
 */
function batchToMiddle(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const [a, h, w, c] = x.shape;
  const out = backend.makeOutput([h, w, a, c], 'float32');
  const { heap, offset } = heapOf(backend);
  runHeapTask(SWAP_OUTER_PAIR, heap, [offset(x), offset(out), a, h * w, c], h * w, a * c);
  return out;
}

/**
 * `[A, B, C]` → `[C, B, A]` (here NHWC → CHWN, with B = H·W) as a JS copy through the heap, one
 * B-row at a time so the A×C block being transposed stays in cache, split over the wasm threads.
 * wasm's Transpose kernel walks the output in order and strides through the input: these
 * transposes took 720 ms of a DigitAnatomy iteration at batch 16 through it, 400 ms this way on
 * one thread.
 */
function swapOuterInner(backend: WasmBackend, x: TensorInfo): TensorInfo {
  const [a, ...rest] = x.shape;
  const c = rest[rest.length - 1];
  const b = x.shape.reduce((p, d) => p * d, 1) / (a * c);
  const out = backend.makeOutput([c, ...rest.slice(0, -1), a], 'float32');
  // The heap view after makeOutput: allocating may grow (and so replace) the heap buffer.
  const { heap, offset } = heapOf(backend);
  runHeapTask(SWAP_OUTER_INNER, heap, [offset(x), offset(out), a, b, c], b, a * c);
  return out;
}

/**
 * dW = Σ_{b,oh,ow} x[b, oh·s + kh − pt, ow·s + kw − pl, ci] · dy[b, oh, ow, co]: a convolution of
 * x viewed as [CI, H, W, B] (batch = input channel, channels = batch) with dy viewed as a filter
 * [OH, OW, B, CO] dilated by the stride. The result [CI, KH, KW, CO] is transposed to HWIO.
 */
function conv2DBackpropFilter(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}) {
  const backend = args.backend as WasmBackend;
  const { x, dy } = args.inputs as { x: TensorInfo; dy: TensorInfo };
  const attrs = args.attrs as unknown as GradAttrs & { filterShape: [number, number, number, number] };
  checkSupported('Conv2DBackpropFilter', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    x.shape as [number, number, number, number],
    attrs.filterShape,
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { strideHeight: sh, strideWidth: sw, filterHeight: kh, filterWidth: kw } = info;
  const { inHeight: h, inWidth: w, outHeight: oh, outWidth: ow } = info;
  const { top, left } = info.padInfo;
  // Padding actually reached by the last output row/column (rows the stride skips get none).
  const bottom = kh + (oh - 1) * sh - h - top;
  const right = kw + (ow - 1) * sw - w - left;
  const [n, , , ci] = x.shape;
  const co = attrs.filterShape[3];
  if (kh === 1 && kw === 1 && top === 0 && left === 0 && bottom <= 0 && right <= 0) {
    // 1×1 without padding: dW = Xᵀ·dy over the sampled pixels, one plain GEMM. The dilated
    // convolution below would run this with one output pixel per input channel, 3–5× slower.
    return withKernelScope(backend, (run) => {
      const sampled =
        sh === 1 && sw === 1 && oh === h && ow === w
          ? x
          : run(
              'StridedSlice',
              { x },
              {
                begin: [0, 0, 0, 0],
                end: [n, (oh - 1) * sh + 1, (ow - 1) * sw + 1, ci],
                strides: [1, sh, sw, 1],
                beginMask: 0,
                endMask: 0,
                ellipsisMask: 0,
                newAxisMask: 0,
                shrinkAxisMask: 0,
              },
            );
      const x2 = run('Reshape', { x: sampled }, { shape: [1, n * oh * ow, ci] });
      const xT = run('Transpose', { x: x2 }, { perm: [0, 2, 1] }); // [1, CI, N]
      const dy2 = run('Reshape', { x: dy }, { shape: [1, n * oh * ow, co] });
      const g = run('BatchMatMul', { a: xT, b: dy2 }, { transposeA: false, transposeB: false }); // [1, CI, CO]
      return run('Reshape', { x: g }, { shape: [1, 1, ci, co] });
    });
  }
  return withKernelScope(backend, (run, adopt) => {
    const xT = adopt(swapOuterInner(backend, x)); // [CI, H, W, B]
    const dyT = adopt(batchToMiddle(backend, dy)); // [OH, OW, B, CO]
    const c = cropForConv(run, xT, [top, bottom, left, right]);
    const g = run(
      'Conv2D',
      { x: c.x, filter: dyT },
      { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [sh, sw] },
    ); // [CI, KH, KW, CO]
    return batchToMiddle(backend, g); // [KH, KW, CI, CO]
  });
}

/** How one spatial dimension of the input gradient maps onto stride-1 convolutions. */
interface AxisPlan {
  stride: number;
  kernel: number;
  /** First phase-space row computed: q in [q0, q0 + rows). */
  q0: number;
  rows: number;
  /** dy padding after the last row (negative = crop), the same for every phase. */
  after: number;
  /** Where the input's first row sits in the assembled q·s + r space. */
  offset: number;
}

/**
 * Input row i = q·s + r − pt ("phase" r = (i + pt) mod s) receives Σ_j dy[q − j] · W[r + s·j]
 * for j < taps(r) = ceil((K − r) / s): for a fixed phase, a stride-1 correlation of dy with the
 * phase's sub-filter reversed. No multiply is wasted on the zeros a zero-inserted dy would have.
 */
function planAxis(k: number, s: number, padBefore: number, size: number, outSize: number): AxisPlan {
  const q0 = Math.floor(padBefore / s);
  const q1 = Math.ceil((padBefore + size) / s);
  return { stride: s, kernel: k, q0, rows: q1 - q0, after: q1 - outSize, offset: padBefore - q0 * s };
}

const taps = (plan: AxisPlan, r: number) => Math.max(0, Math.ceil((plan.kernel - r) / plan.stride));

/**
 * Phase (rh, rw)'s filter [th, tw, CO, CI]: tap (jh, jw) is W[rh + sh·(th−1−jh), rw + sw·(tw−1−jw)]
 * with input and output channels swapped.
 */
function phaseFilter(
  backend: WasmBackend,
  filter: TensorInfo,
  [sh, sw]: [number, number],
  [rh, rw]: [number, number],
  [th, tw]: [number, number],
): TensorInfo {
  const [, kw, ci, co] = filter.shape;
  const out = backend.makeOutput([th, tw, co, ci], 'float32');
  // Views after makeOutput: allocating may grow (and so detach) the wasm heap.
  const src = backend.typedArrayFromHeap(filter) as Float32Array;
  const dst = backend.typedArrayFromHeap(out) as Float32Array;
  for (let jh = 0; jh < th; jh++) {
    const y = rh + sh * (th - 1 - jh);
    for (let jw = 0; jw < tw; jw++) {
      const x = rw + sw * (tw - 1 - jw);
      const srcBase = (y * kw + x) * ci * co;
      const dstBase = (jh * tw + jw) * co * ci;
      for (let i = 0; i < ci; i++) {
        const srcRow = srcBase + i * co;
        for (let o = 0; o < co; o++) dst[dstBase + o * ci + i] = src[srcRow + o];
      }
    }
  }
  return out;
}

/**
 * dx as one stride-1 convolution per stride phase (see {@link planAxis}); the phases are then
 * interleaved back into rows/columns (a depth-to-space) and cropped to the input. For stride 1
 * this is the single convolution with the rotated, in/out-swapped filter.
 */
function conv2DBackpropInput(args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}) {
  const backend = args.backend as WasmBackend;
  const { dy, filter } = args.inputs as { dy: TensorInfo; filter: TensorInfo };
  const attrs = args.attrs as unknown as GradAttrs & { inputShape: [number, number, number, number] };
  checkSupported('Conv2DBackpropInput', attrs);
  const info = tf.backend_util.computeConv2DInfo(
    attrs.inputShape,
    filter.shape as [number, number, number, number],
    attrs.strides,
    1,
    attrs.pad,
    attrs.dimRoundingMode,
    false,
    'channelsLast',
  );
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, strideHeight: sh, strideWidth: sw } = info;
  const rows = planAxis(info.filterHeight, sh, info.padInfo.top, h, info.outHeight);
  const cols = planAxis(info.filterWidth, sw, info.padInfo.left, w, info.outWidth);
  return withKernelScope(backend, (run, adopt) => {
    const phases: TensorInfo[] = []; // each [N, Qh, Qw, CI], in order rh·sw + rw
    for (let rh = 0; rh < sh; rh++) {
      for (let rw = 0; rw < sw; rw++) {
        const th = taps(rows, rh);
        const tw = taps(cols, rw);
        if (th === 0 || tw === 0) {
          // Stride larger than the kernel: these input pixels touch no output.
          phases.push(run('Fill', {}, { shape: [n, rows.rows, cols.rows, ci], value: 0, dtype: 'float32' }));
          continue;
        }
        const wp = adopt(phaseFilter(backend, filter, [sh, sw], [rh, rw], [th, tw]));
        const c = cropForConv(run, dy, [th - 1 - rows.q0, rows.after, tw - 1 - cols.q0, cols.after]);
        phases.push(
          run(
            'Conv2D',
            { x: c.x, filter: wp },
            { strides: [1, 1], pad: c.pad, dataFormat: 'NHWC', dilations: [1, 1] },
          ),
        );
      }
    }
    let full = phases[0];
    if (phases.length > 1) {
      // Concat on axis 0 is a plain copy. Interleaving [rh, rw, N·Qh, Qw, CI] into
      // [N·Qh, rh, Qw, rw, CI] takes two transposes of rank ≤ 4: wasm's Transpose is fast up to
      // rank 4 and ~50× slower on the equivalent single rank-5 permutation.
      const stacked = run('Concat', phases as unknown as Record<string, TensorInfo>, { axis: 0 });
      const a = run('Reshape', { x: stacked }, { shape: [sh, sw, n * rows.rows * cols.rows, ci] });
      const b = run('Transpose', { x: a }, { perm: [0, 2, 1, 3] }); // [rh, N·Qh·Qw, rw, CI]
      const c = run('Reshape', { x: b }, { shape: [sh, n * rows.rows, cols.rows * sw * ci] });
      const d = run('Transpose', { x: c }, { perm: [1, 0, 2] }); // [N·Qh, rh, Qw·rw·CI]
      full = run('Reshape', { x: d }, { shape: [n, rows.rows * sh, cols.rows * sw, ci] });
    }
    if (full.shape[1] === h && full.shape[2] === w) return full;
    return run('Slice', { x: full }, { begin: [0, rows.offset, cols.offset, 0], size: [n, h, w, ci] });
  });
}

/** Our wasm kernels, keyed by kernel name. */
export const wasmConvGradKernels: tf.KernelConfig[] = [
  {
    kernelName: tf.Conv2DBackpropFilter,
    backendName: 'wasm',
    kernelFunc: conv2DBackpropFilter as tf.KernelFunc,
  },
  {
    kernelName: tf.Conv2DBackpropInput,
    backendName: 'wasm',
    kernelFunc: conv2DBackpropInput as tf.KernelFunc,
  },
];

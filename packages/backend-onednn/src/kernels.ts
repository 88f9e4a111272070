import { storageView, tf } from '@squid-ad/backend';
import type { OneDnnAddon } from './addon.js';
import { constantBf16, constantPacked, isConstant } from './constant-operands.js';
import { activationCode, convParams, planMatMul } from './params.js';
import type { Precision } from './precision.js';

type TensorInfo = tf.TensorInfo;
type Conv2DInfo = tf.backend_util.Conv2DInfo;

/** The kernels this package replaces. */
export const KERNEL_NAMES = [
  'Conv2D',
  'Conv2DBackpropInput',
  'Conv2DBackpropFilter',
  'FusedConv2D',
  'BatchMatMul',
  '_FusedMatMul',
  'ResizeBilinearGrad',
  'Concat',
  'SplitV',
] as const;
export type NativeKernelName = (typeof KERNEL_NAMES)[number];

/** Backends whose tensors live in memory a Float32Array can view without copying. */
export const NATIVE_BACKENDS = ['wasm', 'cpu'] as const;
export type NativeBackendName = (typeof NATIVE_BACKENDS)[number];

/** How a kernel reaches a backend's tensor memory: views in place, outputs allocated by the backend. */
export interface DataAccess {
  view(info: TensorInfo): Float32Array;
  alloc(shape: number[]): TensorInfo;
  release(info: TensorInfo): void;
}

// biome-ignore lint/suspicious/noExplicitAny: backend classes are not part of tfjs-core's public types
type AnyBackend = any;

/** Views on the backend's own storage: the wasm heap, or the cpu backend's TypedArrays. */
export function dataAccess(backendName: NativeBackendName, backend: AnyBackend): DataAccess {
  const view = (info: TensorInfo) => {
    const v = storageView(backend, info);
    if (!v) throw new Error(`${backendName} tensor has no float32 storage to view`);
    return v;
  };
  if (backendName === 'wasm') {
    return {
      view,
      alloc: (shape) => backend.makeOutput(shape, 'float32'),
      release: (info) => backend.disposeData(info.dataId),
    };
  }
  return {
    view,
    alloc: (shape) =>
      backend.makeTensorInfo(shape, 'float32', new Float32Array(tf.util.sizeFromShape(shape))),
    release: (info) => backend.disposeData(info.dataId),
  };
}

/**
 * A native kernel's decision for one call: the output shape and how to fill it, or the reason
 * to leave the call to the backend's own kernel.
 */
export type Plan =
  | { outShape: number[]; run(view: (t: TensorInfo) => Float32Array, out: Float32Array): void }
  | { outShapes: number[][]; runAll(view: (t: TensorInfo) => Float32Array, outs: Float32Array[]): void }
  | string;

/**
 * The addon's conv and matMul entry points at one precision (same arguments either way), and
 * the float32-only ones (`resizeBilinearGrad`, `copyRows`, absent from an addon built before them).
 */
export type NativeOps = Pick<
  OneDnnAddon,
  | 'convForward'
  | 'convBackwardData'
  | 'convBackwardWeights'
  | 'matMul'
  | 'resizeBilinearGrad'
  | 'copyRows'
  | 'packConvFilter'
> & {
  /** true for the bfloat16 ops: matMul then takes a constant b as its bf16 copy. */
  bf16?: boolean;
};

/** The ops that compute in `precision`; throws when the addon lacks its bfloat16 variants. */
export function nativeOps(addon: OneDnnAddon, precision: Precision): NativeOps {
  if (precision === 'float32') return addon;
  const { convForwardBf16, convBackwardDataBf16, convBackwardWeightsBf16, matMulBf16 } = addon;
  if (!convForwardBf16 || !convBackwardDataBf16 || !convBackwardWeightsBf16 || !matMulBf16) {
    throw new Error(
      '@squid-ad/backend-onednn: the addon has no bfloat16 kernels; rebuild it (pnpm build:addon)',
    );
  }
  return {
    convForward: convForwardBf16,
    convBackwardData: convBackwardDataBf16,
    convBackwardWeights: convBackwardWeightsBf16,
    matMul: matMulBf16,
    resizeBilinearGrad: addon.resizeBilinearGrad,
    copyRows: addon.copyRows,
    packConvFilter: addon.packConvFilter,
    bf16: true,
  };
}

/** bf16 pays only above this many flops: below, call overheads outweigh the faster dot products. */
export const BF16_MIN_FLOPS = 2 ** 22;
/**
 * ...and only with at least this many flops per element converted to bf16. Measured on the
 * 2-core Zen 4: converting costs ~0.2 ns per element, bf16 saves ~0.005 ns per flop (90 -> 160
 * GFLOP/s), so the break-even is ~40; a conversion's OpenMP wake-up on a loaded machine moves it
 * up. 3x3 convs have 2·9·O flops per input element and pass; the memory read (16x16384 ·
 * 16384x200, ~30) does not.
 */
export const BF16_MIN_INTENSITY = 64;

/**
 * The flop floor when one operand is a constant kept in bf16 (markConstant). Reading it from the
 * kept copy paid at every size measured (2026-12-08, idle 2-core Zen 4, nine distinct memories so
 * that they come from DRAM as in scoring): 9 × (1×K · K×200 then 1×200 · 200×K) took 13.4 / 4.8 /
 * 0.34 ms in float32 and 5.7 / 2.1 / 0.18 ms in bf16 for K = 16384 / 8192 / 1024, the last 0.4
 * MFLOP per matMul.
 */
export const BF16_MIN_FLOPS_CONSTANT = 2 ** 18;

/**
 * Whether running an op of `flops` in bf16, converting `converted` input elements, pays;
 * `constantOperand`: the other operand is a kept bf16 copy, converted no more.
 */
export function bf16Pays(flops: number, converted: number, constantOperand = false): boolean {
  const floor = constantOperand ? BF16_MIN_FLOPS_CONSTANT : BF16_MIN_FLOPS;
  return flops >= floor && flops >= BF16_MIN_INTENSITY * converted;
}

/**
 * Whether oneDNN 2.6's bf16 weight gradient (jit_bf16, NHWC) beats its float32 one at this
 * geometry. Measured on the idle 2-core Zen 4 (AVX512-BF16), alone and inside training steps of
 * both presets, it does at every SQUID geometry with at least 8 input channels whose gradient
 * sums over at least 512 output positions (batch · outHeight · outWidth): 3×3 and 5×5, stride 1
 * and 2, wide decoder inputs included (64×8×8×768 → 256: 53 → 22 ms per call, 64×4×4×512 → 512:
 * 22 → 9 ms). It loses on the discriminator's first conv (1 input channel, 0.8 → 2.3 ms) and on
 * its 4×4-output one at batch 16 (256 positions, 3.4 → 5.5 ms). An earlier rule, measured on a
 * machine at load 15, kept strided and wide convs in float32 (10-50× slower there); at load 2-3
 * (two niced trainings beside) no such loss showed. In-process A/B on the idle machine, the
 * weight gradients of one training iteration: zhanglab 640-745 → 508-604 ms, digitanatomy
 * 289-397 → 244-343 ms.
 */
export function bf16WeightGradientPays(info: Conv2DInfo): boolean {
  return (
    info.dilationHeight === 1 &&
    info.dilationWidth === 1 &&
    info.inChannels >= 8 &&
    info.batchSize * info.outHeight * info.outWidth >= 512
  );
}

/**
 * The ops for one call of `flops` that converts `converted` elements to bf16 when it runs in bf16
 * (`constantOperand`: and reads a kept bf16 copy of its other operand).
 */
export type OpsFor = (flops: number, converted: number, constantOperand?: boolean) => NativeOps;

type KernelArgs = { inputs: Record<string, TensorInfo | undefined>; attrs: Record<string, unknown> };
export type Planner = (ops: OpsFor, args: KernelArgs) => Plan;

const size = (t: TensorInfo) => tf.util.sizeFromShape(t.shape);
const convFlops = (info: Conv2DInfo) =>
  2 *
  info.batchSize *
  info.outHeight *
  info.outWidth *
  info.filterHeight *
  info.filterWidth *
  info.inChannels *
  info.outChannels;

function f32(...infos: (TensorInfo | undefined)[]): string | undefined {
  const bad = infos.find((t) => t && t.dtype !== 'float32');
  return bad ? `dtype ${bad.dtype}` : undefined;
}

function channelsLast(dataFormat: unknown): string | undefined {
  const fmt = tf.backend_util.convertConv2DDataFormat((dataFormat as 'NHWC' | 'NCHW') ?? 'NHWC');
  return fmt === 'channelsLast' ? undefined : 'dataFormat NCHW';
}

function emptyConv(info: Conv2DInfo): string | undefined {
  const dims = [info.batchSize, info.inHeight, info.inWidth, info.inChannels, info.outChannels];
  return dims.some((d) => d <= 0) || info.outHeight <= 0 || info.outWidth <= 0 ? 'empty tensor' : undefined;
}

/**
 * oneDNN 2.x's 1×1 backward-weights kernels write past their scratchpad for a strided 1×1
 * convolution on NHWC input with fewer input channels than their channel block (16 on AVX-512,
 * 8 on AVX2): heap corruption, then wrong numbers or an abort (oneDNN issue #6035, reproduced
 * here with 6 and 8 channels). Such calls stay with the backend's kernel; SQUID has none.
 */
function strided1x1FewChannels(info: Conv2DInfo): string | undefined {
  const strided = info.strideHeight > 1 || info.strideWidth > 1;
  const oneByOne = info.filterHeight === 1 && info.filterWidth === 1;
  return strided && oneByOne && info.inChannels < 16
    ? 'strided 1x1 filter gradient with < 16 input channels (oneDNN #6035)'
    : undefined;
}

/** A bias the addon can add: one value per output channel (shape [O] or [1,..,1,O]). */
function channelBias(bias: TensorInfo | undefined, channels: number): string | undefined {
  if (!bias) return undefined;
  const ok = bias.shape.length > 0 && bias.shape[bias.shape.length - 1] === channels;
  return ok && tf.util.sizeFromShape(bias.shape) === channels
    ? undefined
    : `bias shape ${JSON.stringify(bias.shape)}`;
}

function fusedActivation(attrs: Record<string, unknown>, prelu: TensorInfo | undefined): number | string {
  if (prelu) return 'prelu activation';
  const code = activationCode(attrs.activation as string | undefined);
  return code === undefined ? `activation ${String(attrs.activation)}` : code;
}

function conv2dInfo(
  xShape: number[],
  filterShape: number[],
  attrs: Record<string, unknown>,
  dilations: unknown,
) {
  return tf.backend_util.computeConv2DInfo(
    xShape as [number, number, number, number],
    filterShape as [number, number, number, number],
    attrs.strides as [number, number] | number,
    dilations as [number, number] | number,
    attrs.pad as 'valid' | 'same' | number,
    attrs.dimRoundingMode as 'floor' | 'round' | 'ceil' | undefined,
    false,
    'channelsLast',
  );
}

/**
 * A matMul's ops, and its b as they take it. A constant b (markConstant) is converted to bf16
 * once and kept, so only a's conversion counts against bf16Pays; float32 reads b as is.
 */
function matMulOps(
  opsFor: OpsFor,
  a: TensorInfo,
  b: TensorInfo,
  plan: Exclude<ReturnType<typeof planMatMul>, string>,
) {
  const kept = isConstant(b);
  const flops = 2 * tf.util.sizeFromShape(plan.outShape) * plan.params[3];
  const ops = opsFor(flops, size(a) + (kept ? 0 : size(b)), kept);
  const operandB = (view: (t: TensorInfo) => Float32Array) =>
    ops.bf16 && kept ? constantBf16(b, () => view(b)) : view(b);
  return { ops, operandB };
}

function planConvForward(opsFor: OpsFor, { inputs, attrs }: KernelArgs, fused: boolean): Plan {
  const { x, filter, bias, preluActivationWeights } = inputs;
  if (!x || !filter) return 'missing input';
  const why = f32(x, filter, bias) ?? channelsLast(attrs.dataFormat);
  if (why) return why;
  const info = conv2dInfo(x.shape, filter.shape, attrs, attrs.dilations ?? 1);
  const act = fused ? fusedActivation(attrs, preluActivationWeights) : 0;
  if (typeof act === 'string') return act;
  const bad = emptyConv(info) ?? channelBias(bias, info.outChannels);
  if (bad) return bad;
  const params = convParams(info, act, !!bias);
  const alpha = Number(attrs.leakyreluAlpha ?? 0.2);
  // A constant filter (markConstant) is converted to bf16 once per params, not per call. Kept in
  // float32 too it measured 0.85-0.91x on scoring one DigitAnatomy image, so float32 reads it as is.
  const kept = isConstant(filter);
  const ops = opsFor(convFlops(info), size(x) + (kept ? 0 : size(filter)));
  const pack = ops.bf16 ? ops.packConvFilter : undefined;
  const filterOf = (view: (t: TensorInfo) => Float32Array) =>
    kept && pack
      ? constantPacked(filter, `conv,bf16,${alpha},${params.join(',')}`, () =>
          pack(view(filter), params, true, alpha),
        )
      : view(filter);
  return {
    outShape: info.outShape,
    run: (view, out) =>
      ops.convForward(view(x), filterOf(view), bias ? view(bias) : null, out, params, alpha),
  };
}

const planners: Record<NativeKernelName, Planner> = {
  // Half-pixel centres only: the calls @squid-ad/backend's own kernel serves on wasm (the others
  // stay with it, or on wasm with the stock one). Same bits as that kernel, images in parallel.
  ResizeBilinearGrad: (opsFor, { inputs, attrs }) => {
    const { images, dy } = inputs;
    if (!images || !dy) return 'missing input';
    const ops = opsFor(0, 1);
    if (!ops.resizeBilinearGrad) return 'addon built without resizeBilinearGrad';
    if (!attrs.halfPixelCenters) return 'without half-pixel centres';
    const why = f32(images, dy);
    if (why) return why;
    if (images.shape.length !== 4 || dy.shape.length !== 4) return 'rank is not 4';
    if (images.shape.includes(0) || dy.shape.includes(0)) return 'empty tensor';
    const [batch, xh, xw, depth] = images.shape;
    const dims = Int32Array.of(batch, xh, xw, dy.shape[1], dy.shape[2], depth, attrs.alignCorners ? 1 : 0, 1);
    return {
      outShape: images.shape,
      run: (view, out) => ops.resizeBilinearGrad!(view(dy), out, dims),
    };
  },
  // Copies along any axis: one copyRows per part, rows in parallel; same bits by definition.
  Concat: (opsFor, { inputs, attrs }) => {
    const ops = opsFor(0, 1);
    if (!ops.copyRows) return 'addon built without copyRows';
    const xs = Object.values(inputs).filter((t): t is TensorInfo => t !== undefined);
    if (xs.length < 2) return 'fewer than two inputs';
    const why = f32(...xs);
    if (why) return why;
    const first = xs[0].shape;
    const axis = tf.util.parseAxisParam(attrs.axis as number, first)[0];
    if (
      xs.some((x) => x.shape.length !== first.length || x.shape.some((d, i) => i !== axis && d !== first[i]))
    )
      return 'shapes do not match';
    if (xs.some((x) => size(x) === 0)) return 'empty input';
    const outShape = first.slice();
    outShape[axis] = xs.reduce((sum, x) => sum + x.shape[axis], 0);
    const outer = tf.util.sizeFromShape(first.slice(0, axis));
    const runs = xs.map((x) => tf.util.sizeFromShape(x.shape.slice(axis)));
    const total = runs.reduce((a, b) => a + b, 0);
    return {
      outShape,
      run: (view, out) => {
        let offset = 0;
        xs.forEach((x, i) => {
          ops.copyRows!(view(x), out, Int32Array.of(outer, runs[i], runs[i], total, 0, offset));
          offset += runs[i];
        });
      },
    };
  },
  SplitV: (opsFor, { inputs, attrs }) => {
    const ops = opsFor(0, 1);
    if (!ops.copyRows) return 'addon built without copyRows';
    const { x } = inputs;
    if (!x) return 'missing input';
    const why = f32(x);
    if (why) return why;
    const axis = tf.util.parseAxisParam(attrs.axis as number, x.shape)[0];
    const sizes = tf.backend_util.prepareSplitSize(
      x as unknown as tf.Tensor,
      attrs.numOrSizeSplits as number | number[],
      axis,
    );
    if (size(x) === 0 || sizes.some((part) => part <= 0)) return 'empty part';
    const outer = tf.util.sizeFromShape(x.shape.slice(0, axis));
    const inner = tf.util.sizeFromShape(x.shape.slice(axis + 1));
    const total = x.shape[axis] * inner;
    return {
      outShapes: sizes.map((part) => x.shape.map((d, i) => (i === axis ? part : d))),
      runAll: (view, outs) => {
        let offset = 0;
        sizes.forEach((part, i) => {
          ops.copyRows!(view(x), outs[i], Int32Array.of(outer, part * inner, total, part * inner, offset, 0));
          offset += part * inner;
        });
      },
    };
  },
  Conv2D: (opsFor, args) => planConvForward(opsFor, args, false),
  FusedConv2D: (opsFor, args) => planConvForward(opsFor, args, true),
  Conv2DBackpropInput: (opsFor, { inputs, attrs }) => {
    const { dy, filter } = inputs;
    if (!dy || !filter) return 'missing input';
    const why = f32(dy, filter) ?? channelsLast(attrs.dataFormat);
    if (why) return why;
    const inputShape = attrs.inputShape as number[];
    const info = conv2dInfo(inputShape, filter.shape, attrs, 1);
    if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return 'dy shape does not match';
    const bad = emptyConv(info);
    if (bad) return bad;
    const params = convParams(info);
    const ops = opsFor(convFlops(info), size(dy) + size(filter));
    return {
      outShape: [...inputShape],
      run: (view, out) => ops.convBackwardData(view(dy), view(filter), out, params),
    };
  },
  Conv2DBackpropFilter: (opsFor, { inputs, attrs }) => {
    const { x, dy } = inputs;
    if (!x || !dy) return 'missing input';
    const why = f32(x, dy) ?? channelsLast(attrs.dataFormat);
    if (why) return why;
    const filterShape = attrs.filterShape as number[];
    const info = conv2dInfo(x.shape, filterShape, attrs, 1);
    if (info.outHeight !== dy.shape[1] || info.outWidth !== dy.shape[2]) return 'dy shape does not match';
    const bad = emptyConv(info) ?? strided1x1FewChannels(info);
    if (bad) return bad;
    const params = convParams(info);
    const ops = opsFor(bf16WeightGradientPays(info) ? convFlops(info) : 0, size(x) + size(dy));
    return {
      outShape: [...filterShape],
      run: (view, out) => ops.convBackwardWeights(view(x), view(dy), out, params),
    };
  },
  BatchMatMul: (opsFor, { inputs, attrs }) => {
    const { a, b } = inputs;
    if (!a || !b) return 'missing input';
    const why = f32(a, b);
    if (why) return why;
    const plan = planMatMul(a.shape, b.shape, !!attrs.transposeA, !!attrs.transposeB);
    if (typeof plan === 'string') return plan;
    if (plan.outShape.some((d) => d === 0) || a.shape.includes(0)) return 'empty tensor';
    const { ops, operandB } = matMulOps(opsFor, a, b, plan);
    return {
      outShape: plan.outShape,
      run: (view, out) => ops.matMul(view(a), operandB(view), null, out, plan.params, 0),
    };
  },
  _FusedMatMul: (opsFor, { inputs, attrs }) => {
    const { a, b, bias, preluActivationWeights } = inputs;
    if (!a || !b) return 'missing input';
    const why = f32(a, b, bias);
    if (why) return why;
    const act = fusedActivation(attrs, preluActivationWeights);
    if (typeof act === 'string') return act;
    const plan = planMatMul(a.shape, b.shape, !!attrs.transposeA, !!attrs.transposeB, act, !!bias);
    if (typeof plan === 'string') return plan;
    const n = plan.outShape[plan.outShape.length - 1];
    const bad = channelBias(bias, n);
    if (bad) return bad;
    if (plan.outShape.some((d) => d === 0) || a.shape.includes(0)) return 'empty tensor';
    const alpha = Number(attrs.leakyreluAlpha ?? 0.2);
    const { ops, operandB } = matMulOps(opsFor, a, b, plan);
    return {
      outShape: plan.outShape,
      run: (view, out) =>
        ops.matMul(view(a), operandB(view), bias ? view(bias) : null, out, plan.params, alpha),
    };
  },
};

/** Per kernel and backend: calls served natively, calls left to the backend, and the last reason. */
export interface KernelStats {
  native: number;
  fallback: number;
  lastFallback?: string;
}

/**
 * The kernel config that runs `name` through oneDNN on `backendName` and hands every call it
 * cannot serve (dtype, NCHW, prelu, a oneDNN error) to `original`, the kernel it replaces.
 * `precision` bfloat16 runs oneDNN's bf16 kernels on the same float32 tensors, for the calls
 * where {@link bf16Pays}.
 */
export function nativeKernelConfig(
  addon: OneDnnAddon,
  name: NativeKernelName,
  backendName: NativeBackendName,
  original: tf.KernelConfig | undefined,
  stats: KernelStats,
  precision: Precision = 'float32',
): tf.KernelConfig {
  const planner = planners[name];
  const low = nativeOps(addon, precision);
  // float32 calls, and in bfloat16 the ones where converting would cost more than it saves.
  const opsFor: OpsFor =
    precision === 'float32'
      ? () => addon
      : (flops, n, constant) => (bf16Pays(flops, n, constant) ? low : addon);
  const fallback = (args: Parameters<tf.KernelFunc>[0], reason: string) => {
    stats.fallback++;
    stats.lastFallback = reason;
    if (!original) {
      throw new Error(
        `@squid-ad/backend-onednn: ${name} on ${backendName}: ${reason}, and ${backendName} has no ${name} kernel`,
      );
    }
    return original.kernelFunc(args);
  };
  const kernelFunc: tf.KernelFunc = (args) => {
    const plan = planner(opsFor, args as unknown as KernelArgs);
    if (typeof plan === 'string') return fallback(args, plan);
    const access = dataAccess(backendName, args.backend);
    if ('outShapes' in plan) {
      // Allocate first: a wasm allocation may grow (and replace) the heap that views point into.
      const outs = plan.outShapes.map((shape) => access.alloc(shape));
      try {
        plan.runAll(access.view, outs.map(access.view));
      } catch (err) {
        for (const out of outs) access.release(out);
        return fallback(args, String((err as Error).message ?? err));
      }
      stats.native++;
      return outs;
    }
    // Allocate first: a wasm allocation may grow (and replace) the heap that views point into.
    const out = access.alloc(plan.outShape);
    try {
      plan.run(access.view, access.view(out));
    } catch (err) {
      access.release(out);
      return fallback(args, String((err as Error).message ?? err));
    }
    stats.native++;
    return out;
  };
  return {
    kernelName: name,
    backendName,
    kernelFunc,
    setupFunc: original?.setupFunc,
    disposeFunc: original?.disposeFunc,
  };
}

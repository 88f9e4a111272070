import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

/** The N-API addon's functions (native/onednn_addon.cc); arrays are used in place, never copied. */
export interface OneDnnAddon {
  /**
   * out[N,OH,OW,O] = act(conv(x[N,H,W,C], filter[KH,KW,C,O]) + bias[O]); params: see convParams.
   * filter as a Uint8Array: what packConvFilter returned for the same params, alpha and precision.
   */
  convForward(
    x: Float32Array,
    filter: Float32Array | Uint8Array,
    bias: Float32Array | null,
    out: Float32Array,
    params: Int32Array,
    alpha: number,
  ): void;
  /** dx[N,H,W,C] from dy[N,OH,OW,O] and filter[KH,KW,C,O]. */
  convBackwardData(dy: Float32Array, filter: Float32Array, dx: Float32Array, params: Int32Array): void;
  /** dfilter[KH,KW,C,O] from x[N,H,W,C] and dy[N,OH,OW,O]. */
  convBackwardWeights(x: Float32Array, dy: Float32Array, dfilter: Float32Array, params: Int32Array): void;
  /**
   * out[B,M,N] = act(op(a) x op(b) + bias[N]); params: see matMulParams. b as a Uint16Array (its
   * elements already in bf16, same order) only for matMulBf16.
   */
  matMul(
    a: Float32Array,
    b: Float32Array | Uint16Array,
    bias: Float32Array | null,
    out: Float32Array,
    params: Int32Array,
    alpha: number,
  ): void;
  /**
   * The bfloat16 variants (absent from an addon built before them): same arrays and params, the
   * multiplied operands (x, filter, dy, a, b) rounded to bf16 inside, accumulation and output f32.
   */
  convForwardBf16?: OneDnnAddon['convForward'];
  convBackwardDataBf16?: OneDnnAddon['convBackwardData'];
  convBackwardWeightsBf16?: OneDnnAddon['convBackwardWeights'];
  matMulBf16?: OneDnnAddon['matMul'];
  /**
   * A constant filter in the layout (and, with bf16, the type) convForward's primitive for these
   * params and alpha reads: converted once instead of on every call (absent from older addons).
   */
  packConvFilter?(filter: Float32Array, params: Int32Array, bf16: boolean, alpha: number): Uint8Array;
  /** The instruction set oneDNN dispatches to (after DNNL_MAX_CPU_ISA), e.g. `avx512_core_bf16`. */
  cpuIsa?(): string;
  /** Fused Adam in place; k = [β1, 1−β1, β2, 1−β2, wd, √(1−β2^t), eps, lr/(1−β1^t)] (see @squid-ad/backend). */
  adamUpdate?(
    param: Float32Array,
    expAvg: Float32Array,
    expAvgSq: Float32Array,
    grad: Float32Array,
    k: Float32Array,
  ): void;
  /** Training-mode BatchNorm on NHWC x; dims = [N, H, W, C, relu]; writes y, mean, biased variance. */
  batchNormForward?(
    x: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    y: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    dims: Int32Array,
    eps: number,
  ): void;
  /** Its gradient; `y` (or null) masks dy where the forward's ReLU was 0; dims = [N, H, W, C]. */
  batchNormBackward?(
    x: Float32Array,
    dy: Float32Array,
    gamma: Float32Array,
    beta: Float32Array,
    mean: Float32Array,
    variance: Float32Array,
    y: Float32Array | null,
    dx: Float32Array,
    dgamma: Float32Array,
    dbeta: Float32Array,
    dims: Int32Array,
    eps: number,
  ): void;
  /**
   * The gradient of a bilinear resize, NHWC; dims = [batch, xh, xw, yh, yw, depth, alignCorners,
   * halfPixelCenters]; writes dx (all of it).
   */
  resizeBilinearGrad?(dy: Float32Array, dx: Float32Array, dims: Int32Array): void;
  /**
   * For each of `outer` rows, copies `run` elements from src + srcOffset + o·srcStride to
   * dst + dstOffset + o·dstStride; params = [outer, run, srcStride, dstStride, srcOffset, dstOffset].
   */
  copyRows?(src: Float32Array, dst: Float32Array, params: Int32Array): void;
  setNumThreads(n: number): void;
  getNumThreads(): number;
  version(): string;
  cacheStats(): {
    convForward: number;
    convBackwardData: number;
    convBackwardWeights: number;
    matMul: number;
    batchNorm?: number;
    implementations: Record<string, string>;
  };
  clearCache(): void;
}

export type AddonLoad = { addon: OneDnnAddon; error?: undefined } | { addon?: undefined; error: string };

// src/ (tests) and dist/ (built) both sit one level below the package root.
const addonPath = fileURLToPath(new URL('../build/Release/squid_onednn.node', import.meta.url));
const statusPath = fileURLToPath(new URL('../build/status.json', import.meta.url));

let cached: AddonLoad | undefined;

/** Loads the compiled addon once; on failure says why (not built, oneDNN missing, ...). */
export function loadAddon(): AddonLoad {
  if (cached) return cached;
  if (process.env.SQUID_ONEDNN === '0') {
    cached = { error: 'disabled by SQUID_ONEDNN=0' };
    return cached;
  }
  if (!existsSync(addonPath)) {
    let why = 'addon not built (run `pnpm --filter @squid-ad/backend-onednn build:addon`)';
    try {
      const status = JSON.parse(readFileSync(statusPath, 'utf8')) as { ok: boolean; message: string };
      if (!status.ok) why = `addon ${status.message}`;
    } catch {
      // No status file: the install script never ran here.
    }
    cached = { error: why };
    return cached;
  }
  // libgomp reads its wait policy once, when the addon pulls it in. Its default spins idle
  // workers, which on a busy machine leaves the master waiting whole scheduler slices at each
  // barrier (measured under load: a 9x128x8 batched matMul 23 ms spinning vs 0.12 ms passive)
  // and burns a core the wasm backend could use; passive costs a futex wake per primitive.
  if (process.env.OMP_WAIT_POLICY === undefined) process.env.OMP_WAIT_POLICY = 'passive';
  try {
    const require = createRequire(import.meta.url);
    cached = { addon: require(addonPath) as OneDnnAddon };
  } catch (err) {
    // Typically libdnnl.so.2 was removed after the build.
    cached = { error: `addon failed to load (${String((err as Error).message ?? err).split('\n')[0]})` };
  }
  return cached;
}

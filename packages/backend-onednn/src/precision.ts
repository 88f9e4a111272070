import { loadAddon, type OneDnnAddon } from './addon.js';

/** The precisions the conv and matMul kernels compute in (inputs and outputs are float32 either way). */
export const PRECISIONS = ['float32', 'bfloat16'] as const;
export type Precision = (typeof PRECISIONS)[number];
/** A precision, or `auto`: bfloat16 where the CPU multiplies bf16 natively, float32 elsewhere. */
export type PrecisionChoice = Precision | 'auto';

/** What this machine's oneDNN does with bfloat16. */
export interface Bf16Support {
  /** bf16 dot products run in hardware: AVX512-BF16 (`avx512_core_bf16`) or AMX (`avx512_core_amx`). */
  native: boolean;
  /** oneDNN has bf16 kernels here at all: natively, or emulated in AVX-512 (`avx512_core`, slower than float32). */
  runs: boolean;
  /** oneDNN's dispatch ISA, e.g. `avx512_core_bf16`; absent when the addon is. */
  isa?: string;
  /** Why bf16 does not run, when it does not. */
  reason?: string;
}

// oneDNN 2.x's cpu_isa names, weakest first; bf16 kernels exist from avx512_core on.
const NATIVE_BF16 = new Set(['avx512_core_bf16', 'avx512_core_amx']);
const EMULATED_BF16 = new Set(['avx512_core', 'avx512_core_vnni']);

function hasBf16Ops(addon: OneDnnAddon): boolean {
  return !!(
    addon.convForwardBf16 &&
    addon.convBackwardDataBf16 &&
    addon.convBackwardWeightsBf16 &&
    addon.matMulBf16 &&
    addon.cpuIsa
  );
}

/**
 * Whether this CPU runs bfloat16 natively, as oneDNN sees it: its dispatch ISA, which honours a
 * `DNNL_MAX_CPU_ISA` cap, so `auto` never picks a bf16 path that oneDNN would emulate.
 */
export function bf16Support(addon: OneDnnAddon | undefined = loadAddon().addon): Bf16Support {
  if (!addon) return { native: false, runs: false, reason: loadAddon().error ?? 'addon not loaded' };
  if (!hasBf16Ops(addon)) {
    return {
      native: false,
      runs: false,
      reason: 'the addon was built before its bfloat16 kernels; rebuild it (pnpm build:addon)',
    };
  }
  const isa = addon.cpuIsa?.() ?? 'unknown';
  if (NATIVE_BF16.has(isa)) return { native: true, runs: true, isa };
  if (EMULATED_BF16.has(isa)) return { native: false, runs: true, isa };
  return { native: false, runs: false, isa, reason: `oneDNN has no bfloat16 kernels for ${isa}` };
}

/** The precision a choice resolves to here, and a note when it is not the one asked for. */
export function resolvePrecision(
  choice: PrecisionChoice,
  support: Bf16Support,
): { precision: Precision; note?: string } {
  if (choice === 'float32') return { precision: 'float32' };
  if (choice === 'auto') {
    return support.native
      ? { precision: 'bfloat16' }
      : { precision: 'float32', note: `auto: no native bfloat16 (${support.reason ?? support.isa})` };
  }
  if (support.runs) {
    return support.native
      ? { precision: 'bfloat16' }
      : { precision: 'bfloat16', note: `bfloat16 is emulated on ${support.isa}, slower than float32` };
  }
  return { precision: 'float32', note: `bfloat16 unavailable (${support.reason}); using float32` };
}

/**
 * The precision `SQUID_ONEDNN_PRECISION` asks for (`float32`, `bfloat16` or `auto`), float32
 * when unset, and a note when its value is not one of those.
 */
export function precisionFromEnv(env = process.env): { choice: PrecisionChoice; note?: string } {
  const raw = env.SQUID_ONEDNN_PRECISION;
  if (raw === undefined || raw === '') return { choice: 'float32' };
  if (raw === 'auto' || (PRECISIONS as readonly string[]).includes(raw))
    return { choice: raw as PrecisionChoice };
  return {
    choice: 'float32',
    note: `SQUID_ONEDNN_PRECISION=${raw} is not float32, bfloat16 or auto; using float32`,
  };
}

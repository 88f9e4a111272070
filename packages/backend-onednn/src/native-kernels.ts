import { setFusedAdamKernel, tf } from '@squid-ad/backend';
import { z } from 'zod';
import { loadAddon, type OneDnnAddon } from './addon.js';
import { batchNormKernelConfigs } from './batch-norm-kernels.js';
import {
  KERNEL_NAMES,
  type KernelStats,
  NATIVE_BACKENDS,
  type NativeBackendName,
  type NativeKernelName,
  nativeKernelConfig,
} from './kernels.js';
import { bf16Support, type Precision, precisionFromEnv, resolvePrecision } from './precision.js';
import { defaultThreads, wasmThreadsOf } from './threads.js';

/** Options of {@link enableNativeKernels}. */
export const NativeKernelsConfig = z.object({
  /** TF.js backends to serve; backends other than wasm and cpu keep their own kernels. */
  backends: z.array(z.enum(NATIVE_BACKENDS)).default([...NATIVE_BACKENDS]),
  /** Which kernels to replace. */
  kernels: z.array(z.enum(KERNEL_NAMES)).default([...KERNEL_NAMES]),
  /** OpenMP threads for oneDNN; default {@link defaultThreads}. */
  threads: z.number().int().positive().optional(),
  /**
   * What conv and matMul compute in: float32, bfloat16 (bf16 operands, float32 accumulation and
   * outputs), or auto (bfloat16 where the CPU has native bf16). Default `SQUID_ONEDNN_PRECISION`,
   * else float32.
   */
  precision: z.enum(['float32', 'bfloat16', 'auto']).optional(),
  /**
   * The kernels that may run in bfloat16 when the precision is bfloat16 (each call still only
   * where it pays: bf16Pays, and for Conv2DBackpropFilter bf16WeightGradientPays); the others
   * stay float32. Default: all of them for `bfloat16`; for `auto`, all but Conv2DBackpropFilter
   * ({@link AUTO_BF16_KERNELS}).
   */
  bf16Kernels: z.array(z.enum(KERNEL_NAMES)).optional(),
});
export type NativeKernelsConfig = z.infer<typeof NativeKernelsConfig>;
export type NativeKernelsOptions = z.input<typeof NativeKernelsConfig>;

/**
 * What `auto` runs in bfloat16: everything but the weight gradients. oneDNN 2.6's bf16 weight
 * gradient (jit_bf16) waits for its threads at spinning barriers: on an idle machine it saves
 * ~9 % of a training iteration, but when other processes share the cores a waiting thread spins
 * through its time slice. Measured on the 2-core Zen 4 beside two other trainings (load 5), one
 * digitanatomy iteration took 4.3 s in float32, 6.6 s with bf16 weight gradients and 3.5 s
 * without them; idle, 1.39 / 1.09 / 1.19 s. `bfloat16` (dedicated machines) keeps them.
 */
export const AUTO_BF16_KERNELS: readonly NativeKernelName[] = KERNEL_NAMES.filter(
  (k) => k !== 'Conv2DBackpropFilter',
);

/** Whether oneDNN kernels are registered, and if not, why. */
export interface NativeKernelsStatus {
  enabled: boolean;
  reason?: string;
  /** oneDNN library version, e.g. `2.6.3`. */
  version?: string;
  threads?: number;
  backends: NativeBackendName[];
  kernels: NativeKernelName[];
  /** What the conv and matMul kernels compute in (set by the last enable). */
  precision?: Precision;
  /** Why the precision is not the one asked for, or that bfloat16 is emulated here. */
  precisionNote?: string;
  /** With precision bfloat16: the kernels that may run in bf16 (see `bf16Kernels`). */
  bf16Kernels?: NativeKernelName[];
}

const replaced = new Map<string, { original: tf.KernelConfig | undefined }>();
const added = new Set<string>();
// Outlives disable/enable cycles, so callers can compare counts around any stretch of work.
const stats = new Map<string, KernelStats>();
let status: NativeKernelsStatus = { enabled: false, reason: 'not enabled', backends: [], kernels: [] };

const key = (name: string, backend: string) => `${backend}/${name}`;

/** The loaded addon, for direct calls (benchmarks, tests); throws with the reason when absent. */
export function oneDnn(): OneDnnAddon {
  const load = loadAddon();
  if (!load.addon) throw new Error(`@squid-ad/backend-onednn: ${load.error}`);
  return load.addon;
}

/** Whether the addon is built and loads, and why not. */
export function nativeAvailable(): { available: boolean; reason?: string } {
  const load = loadAddon();
  return load.addon ? { available: true } : { available: false, reason: load.error };
}

/**
 * Registers the oneDNN kernels for the chosen TF.js backends, wrapping the kernels they replace
 * (which still serve what oneDNN cannot: other dtypes, NCHW, prelu). Never throws: when the addon
 * is missing, the status says why and TF.js keeps its kernels.
 */
export function enableNativeKernels(options: NativeKernelsOptions = {}): NativeKernelsStatus {
  const config = NativeKernelsConfig.parse(options);
  const load = loadAddon();
  if (!load.addon) {
    status = { enabled: false, reason: load.error, backends: [], kernels: [] };
    return status;
  }
  const addon = load.addon;
  const wasm = tf.findBackend('wasm');
  const threads =
    config.threads ?? defaultThreads(config.backends.includes('wasm') && wasm ? wasmThreadsOf(wasm) : 1);
  addon.setNumThreads(threads);
  const fromEnv = precisionFromEnv();
  const choice = config.precision ?? fromEnv.choice;
  const resolved = resolvePrecision(choice, bf16Support(addon));
  const autoKernels = !config.bf16Kernels && choice === 'auto';
  const bf16Kernels = config.bf16Kernels ?? [...(autoKernels ? AUTO_BF16_KERNELS : KERNEL_NAMES)];
  const autoNote =
    autoKernels && resolved.precision === 'bfloat16' ? 'auto: weight gradients in float32' : undefined;
  const precisionNote = (config.precision ? resolved.note : (fromEnv.note ?? resolved.note)) ?? autoNote;
  for (const backendName of config.backends) {
    for (const name of config.kernels) {
      const k = key(name, backendName);
      const prior = replaced.get(k);
      const original = prior ? prior.original : tf.getKernel(name, backendName);
      const counts = stats.get(k) ?? { native: 0, fallback: 0 };
      stats.set(k, counts);
      if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
      const precision = bf16Kernels.includes(name) ? resolved.precision : 'float32';
      tf.registerKernel(nativeKernelConfig(addon, name, backendName, original, counts, precision));
      replaced.set(k, { original });
    }
  }
  // Added kernels (no TF.js kernel of that name to replace); an addon built before they existed
  // still serves the kernels above.
  if (addon.batchNormForward && addon.batchNormBackward) {
    for (const backendName of config.backends) {
      for (const kernel of batchNormKernelConfigs(addon, backendName)) {
        if (tf.getKernel(kernel.kernelName, backendName)) tf.unregisterKernel(kernel.kernelName, backendName);
        tf.registerKernel(kernel);
        added.add(key(kernel.kernelName, backendName));
      }
    }
  }
  const backends = [...new Set([...status.backends, ...config.backends])];
  const adamUpdate = addon.adamUpdate;
  // Only where the kernels that read weights are ours too (see setFusedAdamKernel).
  const weightKernels = ['Conv2D', 'FusedConv2D', 'BatchMatMul', '_FusedMatMul'];
  const adamBackends = backends.filter((b) => weightKernels.every((name) => replaced.has(key(name, b))));
  setFusedAdamKernel(adamUpdate ? (p, m, v, g, k) => adamUpdate(p, m, v, g, k) : undefined, adamBackends);
  status = {
    enabled: true,
    version: addon.version(),
    threads: addon.getNumThreads(),
    backends,
    kernels: [...new Set([...status.kernels, ...config.kernels])],
    precision: resolved.precision,
    ...(precisionNote ? { precisionNote } : {}),
    ...(resolved.precision === 'bfloat16' ? { bf16Kernels } : {}),
  };
  return status;
}

/** Restores the kernels {@link enableNativeKernels} replaced. */
export function disableNativeKernels(): void {
  for (const [k, { original }] of replaced) {
    const [backendName, name] = k.split('/') as [string, string];
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
    if (original) tf.registerKernel(original);
  }
  replaced.clear();
  for (const k of added) {
    const [backendName, name] = k.split('/') as [string, string];
    if (tf.getKernel(name, backendName)) tf.unregisterKernel(name, backendName);
  }
  added.clear();
  setFusedAdamKernel(undefined);
  status = { enabled: false, reason: 'disabled', backends: [], kernels: [] };
}

/** The current state of the native kernels. */
export function nativeKernelsStatus(): NativeKernelsStatus {
  return status;
}

/** Call counts per `backend/kernel`: served by oneDNN, or handed back to the backend's kernel. */
export function nativeKernelStats(): Record<string, KernelStats> {
  return Object.fromEntries([...stats].map(([k, v]) => [k, { ...v }]));
}

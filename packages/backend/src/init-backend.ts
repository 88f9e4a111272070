import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { setConstantTarget } from './constant-tensors.js';
import { probeNativeBinding } from './native-binding.js';
import { installResizeBilinearGrad } from './resize-bilinear-grad.js';
import { tf } from './tf.js';
import { setHeapWorkerThreads, type WasmMemory } from './wasm-heap-workers.js';
import { installWasmKernels } from './wasm-install.js';
import {
  initWasmBackend,
  resolveThreads,
  type ThreadsChoice,
  type WasmThreadsReport,
} from './wasm-threads.js';

/** Backends squid can run on, fastest first; `auto` picks the first that works. */
export const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] as const;
export type BackendChoice = (typeof BACKENDS)[number];
export type ConcreteBackend = Exclude<BackendChoice, 'auto'>;

/** What convolutions and matMuls compute in; `auto` = bfloat16 where the CPU multiplies bf16 natively. */
export const PRECISIONS = ['auto', 'float32', 'bfloat16'] as const;
export type PrecisionChoice = (typeof PRECISIONS)[number];

export interface InitBackendOptions {
  /** Which backend to use; default: env `SQUID_BACKEND`, else `auto`. */
  backend?: BackendChoice;
  /** Use @squid-ad/backend-onednn's kernels on wasm/cpu when installed; default: env `SQUID_NATIVE_KERNELS` != `0`. */
  nativeKernels?: boolean;
  /** wasm threads: a count or `auto` (every logical core); default: env `SQUID_THREADS`, else 1. */
  threads?: ThreadsChoice;
  /**
   * Mixed precision of the oneDNN kernels: bfloat16 conv/matMul operands with float32
   * accumulation, everything else (weights, optimizer state, BatchNorm, losses) float32.
   * Default: env `SQUID_ONEDNN_PRECISION`, else float32. Without the kernels: float32.
   */
  precision?: PrecisionChoice;
}

/** What {@link initBackend} chose, and why every faster backend was skipped. */
export interface BackendReport {
  backend: ConcreteBackend;
  /** The TensorFlow.js backend name (`tensorflow`, `wasm`, `cpu`). */
  tfBackend: string;
  skipped: { backend: ConcreteBackend; reason: string }[];
  /** Whether the optional oneDNN kernels (@squid-ad/backend-onednn) serve this backend, and if not, why. */
  nativeKernels: { enabled: boolean; reason?: string };
  /** What convolutions and matMuls compute in, and why not what was asked for (or a caveat). */
  precision: 'float32' | 'bfloat16';
  precisionNote?: string;
  /** On wasm: threads requested and running, and why fewer if so. */
  wasmThreads?: WasmThreadsReport;
}

let current: BackendReport | undefined;
let wasmThreads: WasmThreadsReport | undefined;

/** The report of the last {@link initBackend}, if any. */
export function backendReport(): BackendReport | undefined {
  return current;
}

function parseChoice(value: string | undefined): BackendChoice {
  const choice = (value ?? 'auto').trim() || 'auto';
  if (!(BACKENDS as readonly string[]).includes(choice)) {
    throw new Error(
      `unknown backend "${choice}" (SQUID_BACKEND or --backend); choose one of ${BACKENDS.join(', ')}`,
    );
  }
  return choice as BackendChoice;
}

function describe(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e?.code === 'ERR_MODULE_NOT_FOUND' || e?.code === 'MODULE_NOT_FOUND') return 'not installed';
  const first = String(e?.message ?? err).split('\n')[0];
  return `native binding failed to load (${first})`;
}

/**
 * Runs `init` and removes the process handlers it added. The wasm backend's Emscripten glue adds
 * `uncaughtException` / `unhandledRejection` handlers that rethrow from inside the glue, so every
 * uncaught error of the program was printed as the glue's source line (one ~39 KB line when
 * minified) and exited with code 7 instead of Node's own message and exit code 1.
 */
async function withoutEmscriptenHandlers<T>(init: () => Promise<T>): Promise<T> {
  const handlers = () => ({
    uncaughtException: process.listeners('uncaughtException'),
    unhandledRejection: process.listeners('unhandledRejection'),
  });
  const before = handlers();
  try {
    return await init();
  } finally {
    const after = handlers();
    for (const l of after.uncaughtException)
      if (!before.uncaughtException.includes(l)) process.removeListener('uncaughtException', l);
    for (const l of after.unhandledRejection)
      if (!before.unhandledRejection.includes(l)) process.removeListener('unhandledRejection', l);
  }
}

/** Tries one backend; returns why it cannot be used, or undefined when it is now active. */
async function tryBackend(backend: ConcreteBackend, threads: number): Promise<string | undefined> {
  try {
    switch (backend) {
      case 'tensorflow-gpu':
      case 'tensorflow': {
        const gpu = backend === 'tensorflow-gpu';
        const pkg = gpu ? '@tensorflow/tfjs-node-gpu' : '@tensorflow/tfjs-node';
        // Either package registers the one 'tensorflow' backend; never import a second one.
        if (!tf.findBackendFactory('tensorflow')) {
          const probe = probeNativeBinding(pkg, { gpu });
          if (!probe.ok) return probe.reason;
          await import(pkg);
        }
        // biome-ignore lint/suspicious/noExplicitAny: tfjs-node's backend exposes this flag untyped
        if (gpu && (tf.findBackend('tensorflow') as any)?.isUsingGpuDevice !== true) return 'no GPU';
        if (!(await tf.setBackend('tensorflow'))) return 'native backend failed to initialise';
        return undefined;
      }
      case 'wasm': {
        await import('@tensorflow/tfjs-backend-wasm');
        installWasmKernels();
        installResizeBilinearGrad();
        wasmThreads = await withoutEmscriptenHandlers(() => initWasmBackend(threads));
        // Our JS heap loops follow wasm's thread count (threaded wasm has a shared heap).
        const wasmModule = (tf.backend() as unknown as { wasm?: { wasmMemory?: WasmMemory } }).wasm;
        setHeapWorkerThreads(wasmModule?.wasmMemory, wasmThreads.threads, Worker);
        return undefined;
      }
      case 'cpu':
        if (!(await tf.setBackend('cpu'))) return 'cpu backend failed to initialise';
        return undefined;
    }
  } catch (err) {
    return describe(err);
  }
}

/** @squid-ad/backend-onednn, once an initBackend has imported it. */
let nativeModule:
  | { disableNativeKernels(): void; markConstant?(tensors: Iterable<{ dataId: object }>): void }
  | undefined;

/**
 * Imports @squid-ad/backend-onednn. It is not our dependency (it depends on us), so when our own
 * resolution misses it, look where the app would have installed it: beside the entry script, then
 * in the working directory.
 */
async function importNativeKernels() {
  // A variable specifier keeps bundlers from inlining the optional package.
  const specifier = '@squid-ad/backend-onednn';
  try {
    return await import(specifier);
  } catch (err) {
    for (const base of [process.argv[1], join(process.cwd(), 'index.js')]) {
      try {
        const pkg = createRequire(resolve(base ?? '.')).resolve(`${specifier}/package.json`);
        return await import(pathToFileURL(join(dirname(pkg), 'dist', 'index.js')).href);
      } catch {
        // Not installed there either.
      }
    }
    throw err;
  }
}

/** Enables the optional oneDNN kernels for `tfBackend`; never throws (absence is a reason). */
async function tryNativeKernels(
  tfBackend: string,
  wanted: boolean,
  precision: PrecisionChoice | undefined,
): Promise<Pick<BackendReport, 'nativeKernels' | 'precision' | 'precisionNote'>> {
  setConstantTarget(undefined);
  const off = (reason: string) => ({
    nativeKernels: { enabled: false, reason },
    precision: 'float32' as const,
    ...(precision === 'bfloat16'
      ? { precisionNote: 'bfloat16 needs the oneDNN kernels; computing in float32' }
      : {}),
  });
  if (!wanted) {
    // An earlier initBackend of this process may have enabled them: "off" must mean off.
    nativeModule?.disableNativeKernels();
    return off('disabled (nativeKernels: false or SQUID_NATIVE_KERNELS=0)');
  }
  if (tfBackend !== 'wasm' && tfBackend !== 'cpu') return off(`not used on ${tfBackend}`);
  try {
    const mod = await importNativeKernels();
    nativeModule = mod;
    const status = mod.enableNativeKernels({ backends: [tfBackend], ...(precision ? { precision } : {}) });
    if (!status.enabled) return off(status.reason);
    setConstantTarget(mod.markConstant ? (tensors) => mod.markConstant?.(tensors) : undefined);
    return {
      nativeKernels: { enabled: true },
      precision: status.precision ?? 'float32',
      ...(status.precisionNote ? { precisionNote: status.precisionNote } : {}),
    };
  } catch (err) {
    return off(describe(err).replace('native binding', '@squid-ad/backend-onednn'));
  }
}

/**
 * Selects and initialises the TensorFlow.js backend. `auto` tries tensorflow-gpu, tensorflow,
 * wasm, then cpu and reports why each earlier one was skipped. An explicitly requested backend
 * that does not work is an error.
 */
export async function initBackend(options: InitBackendOptions = {}): Promise<BackendReport> {
  const choice = options.backend ?? parseChoice(process.env.SQUID_BACKEND);
  const threads = resolveThreads(options.threads);
  const order: ConcreteBackend[] =
    choice === 'auto' ? ['tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'] : [choice];
  const skipped: BackendReport['skipped'] = [];
  for (const backend of order) {
    const reason = await tryBackend(backend, threads);
    if (reason === undefined) {
      await tf.ready();
      // The cpu backend's first write prints "install tfjs-node to speed things up"; the report
      // already says why tfjs-node is not in use.
      const cpu = tf.findBackend('cpu') as { firstUse?: boolean } | null;
      if (cpu) cpu.firstUse = false;
      const tfBackend = tf.getBackend();
      const wantNative = options.nativeKernels ?? process.env.SQUID_NATIVE_KERNELS !== '0';
      current = {
        backend,
        tfBackend,
        skipped,
        ...(await tryNativeKernels(tfBackend, wantNative, options.precision)),
      };
      if (backend === 'wasm') current.wasmThreads = wasmThreads;
      return current;
    }
    skipped.push({ backend, reason });
  }
  const why = skipped.map((s) => `${s.backend}: ${s.reason}`).join('; ');
  throw new Error(`no usable TensorFlow.js backend (${why})`);
}

// Multi-threaded tfjs-backend-wasm in Node.
//
// Why this module exists: tfjs-backend-wasm ships a pthreads+SIMD build that runs matMul and
// conv about 2x faster on two cores with bit-identical results, but 4.22.0 switches it off in
// Node (WASM_HAS_MULTITHREAD_SUPPORT is hard-wired to false there, tfjs issue #3830; the fix,
// PR #8059, was never merged). Forcing the flag on leaves three Node-specific breakages, each
// worked around here and only for the duration of the backend's initialisation:
//  (a) emscripten creates its 8 pthread workers from a `blob:` URL, which Node's `Worker`
//      rejects. While we initialise, `worker_threads.Worker` is a subclass that evaluates the
//      worker source shipped in the package (`wasm-out/…-threaded-simd.worker.js`) instead.
//  (b) each worker is then told to import a Blob of the bundler-rewritten module factory, which
//      Node cannot read; the subclass rewrites that `load` message to the standalone emscripten
//      glue shipped next to it (`wasm-out/tfjs-backend-wasm-threaded-simd.js`), same build.
//  (c) the C++ side caps threads at (logical CPUs ÷ 2), i.e. 1 on a 2-CPU machine; it reads the
//      CPU count through `os.cpus()` once, while the module starts, so `os.cpus` reports
//      2 × threads for that moment.
// Afterwards the pthread workers are unref'd: the pthreadpool threads live forever and would
// otherwise keep the process from exiting. Everything is checked against the pinned version;
// any failure falls back to the single-threaded build and says why.
import { createRequire } from 'node:module';
import os from 'node:os';
import { tf } from './tf.js';

const require = createRequire(import.meta.url);

/** tfjs-backend-wasm version the threaded workaround was verified against. */
export const THREADED_WASM_VERSION = '4.22.0';
/** emscripten pre-creates 8 pthread workers; XNNPACK's pool uses threads − 1 of them. */
export const MAX_WASM_THREADS = 8;
const INIT_TIMEOUT_MS = 60_000;

/** How many threads wasm should use: a count, or `auto` for every logical core. */
export type ThreadsChoice = number | 'auto';

/** Outcome of {@link initWasmBackend}. */
export interface WasmThreadsReport {
  /** Threads asked for (after resolving `auto` and capping at {@link MAX_WASM_THREADS}). */
  requested: number;
  /** Threads XNNPACK actually runs with. */
  threads: number;
  /** Why `threads < requested`, if so. */
  reason?: string;
}

/** Logical cores of this machine (what `auto` means). */
export function logicalCores(): number {
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}

/**
 * Resolves the `threads` option: explicit value, else env `SQUID_THREADS`, else 1. `auto` is
 * every logical core; the result is capped at {@link MAX_WASM_THREADS}.
 */
export function resolveThreads(choice?: ThreadsChoice | string): number {
  const raw = choice ?? process.env.SQUID_THREADS ?? 1;
  const text = String(raw).trim();
  const n = text === 'auto' ? logicalCores() : Number(text);
  if (!Number.isInteger(n) || n < 1) {
    throw new Error(`invalid threads "${text}" (SQUID_THREADS or --threads): use a positive integer or auto`);
  }
  return Math.min(n, MAX_WASM_THREADS);
}

type WasmPackage = typeof import('@tensorflow/tfjs-backend-wasm');
type BackendFactory = { factory: () => tf.KernelBackend | Promise<tf.KernelBackend>; priority: number };
interface PThreadRegistry {
  runningWorkers: unknown[];
  unusedWorkers: unknown[];
  terminateAllThreads(): void;
}

let stockFactory: BackendFactory | undefined;

/** The emscripten pthread registry of the live wasm module, if it is the threaded build. */
function pthreads(): PThreadRegistry | undefined {
  const backend = tf.engine().registry.wasm as unknown as
    | { wasm?: { PThread?: PThreadRegistry } }
    | undefined;
  return backend?.wasm?.PThread;
}

/** Drops the initialised wasm backend (and its workers) so the next setBackend starts afresh. */
function resetWasmBackend(): void {
  const engine = tf.engine();
  if (!stockFactory) return;
  pthreads()?.terminateAllThreads();
  if (engine.registryFactory.wasm) tf.removeBackend('wasm');
  tf.registerBackend('wasm', stockFactory.factory, stockFactory.priority);
}

/** Worker sources and a `worker_threads.Worker` subclass that Node accepts for emscripten. */
function makeWorkerClass(wasmDir: string) {
  const wt = require('node:worker_threads') as typeof import('node:worker_threads');
  const glue = `${wasmDir}/wasm-out/tfjs-backend-wasm-threaded-simd.js`;
  const { wasmWorkerContents } = require(`${wasmDir}/wasm-out/tfjs-backend-wasm-threaded-simd.worker.js`) as {
    wasmWorkerContents: string;
  };
  // The worker source is a template literal whose `\n` escapes became real newlines inside
  // string literals; tfjs re-escapes them the same way before making its Blob.
  const source = wasmWorkerContents.replace(/\n/g, '\\n');
  const created: PThreadWorker[] = [];
  class PThreadWorker extends wt.Worker {
    private keepAlive = true;
    constructor(_blobUrl: string | URL, options?: import('node:worker_threads').WorkerOptions) {
      super(source, { ...options, eval: true });
      created.push(this);
    }
    override postMessage(
      message: unknown,
      transferList?: readonly import('node:worker_threads').Transferable[],
    ) {
      const msg = message as { cmd?: string; urlOrBlob?: unknown } | null;
      if (msg?.cmd === 'load' && typeof msg.urlOrBlob !== 'string') message = { ...msg, urlOrBlob: glue };
      super.postMessage(message, transferList);
    }
    /** emscripten refs a worker while it runs a pthread; pool threads never end, so that would pin the process. */
    override ref() {
      if (this.keepAlive) super.ref();
    }
    /** Lets the process exit while the pool threads idle. */
    release() {
      this.keepAlive = false;
      this.unref();
    }
  }
  return { wt, PThreadWorker, created };
}

const report = (requested: number, threads: number, reason?: string): WasmThreadsReport =>
  reason === undefined ? { requested, threads } : { requested, threads, reason };

async function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Initialises the threaded build with `threads` threads; throws with the reason on failure. */
async function initThreaded(wasm: WasmPackage, threads: number, wasmDir: string): Promise<void> {
  if (wasm.version_wasm !== THREADED_WASM_VERSION) {
    throw new Error(
      `threaded wasm is only verified with @tensorflow/tfjs-backend-wasm ${THREADED_WASM_VERSION}, found ${wasm.version_wasm}`,
    );
  }
  if (typeof SharedArrayBuffer === 'undefined') throw new Error('SharedArrayBuffer is not available');
  const { wt, PThreadWorker, created } = makeWorkerClass(wasmDir);
  const mutableWt = wt as { Worker: unknown };
  const StockWorker = wt.Worker;
  // The same objects tfjs-backend-wasm's CommonJS bundle got from require().
  const mutableOs = require('node:os') as { cpus: typeof os.cpus };
  const stockCpus = mutableOs.cpus;
  const globalWorker = Object.getOwnPropertyDescriptor(globalThis, 'Worker');
  mutableWt.Worker = PThreadWorker;
  mutableOs.cpus = () => {
    const cpus = stockCpus();
    return Array.from({ length: 2 * threads }, (_, i) => cpus[i % cpus.length]);
  };
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', true);
  wasm.setThreadsCount(threads);
  let ok = false;
  try {
    const active = await withTimeout(tf.setBackend('wasm'), INIT_TIMEOUT_MS, 'threaded wasm initialisation');
    if (!active) throw new Error('the threaded wasm module failed to initialise');
    if (!pthreads()) throw new Error('the threaded build was not loaded');
    ok = true;
  } finally {
    mutableWt.Worker = StockWorker;
    mutableOs.cpus = stockCpus;
    // The emscripten glue publishes its Worker class as a global; Node has none of its own.
    if (globalWorker) Object.defineProperty(globalThis, 'Worker', globalWorker);
    else delete (globalThis as { Worker?: unknown }).Worker;
    if (ok) for (const w of created) w.release();
    else for (const w of created) void w.terminate();
  }
}

/**
 * Makes wasm the active backend with `threads` XNNPACK threads (1 = the stock single-threaded
 * SIMD build). Re-initialises the wasm module when it already runs with another count. Never
 * throws for thread trouble: it falls back to one thread and reports why.
 */
export async function initWasmBackend(threads: number): Promise<WasmThreadsReport> {
  const wasm = (await import('@tensorflow/tfjs-backend-wasm')) as WasmPackage;
  const engine = tf.engine();
  stockFactory ??= engine.registryFactory.wasm as BackendFactory | undefined;
  if (!stockFactory) throw new Error('@tensorflow/tfjs-backend-wasm did not register a "wasm" backend');
  if (engine.registry.wasm) {
    if (wasm.getThreadsCount() === threads) {
      await tf.setBackend('wasm');
      return { requested: threads, threads };
    }
    resetWasmBackend();
  }
  let reason: string | undefined;
  if (threads > 1) {
    const wasmDir = require
      .resolve('@tensorflow/tfjs-backend-wasm/package.json')
      .replace(/[\\/]package\.json$/, '');
    try {
      await initThreaded(wasm, threads, wasmDir);
      const actual = wasm.getThreadsCount();
      if (actual < threads) reason = `the wasm thread pool started ${actual} of ${threads} threads`;
      return report(threads, actual, reason);
    } catch (err) {
      reason = String((err as Error)?.message ?? err).split('\n')[0];
      resetWasmBackend();
    }
  }
  tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);
  wasm.setThreadsCount(1);
  if (!(await tf.setBackend('wasm'))) throw new Error('wasm module failed to initialise');
  return report(threads, wasm.getThreadsCount(), reason);
}

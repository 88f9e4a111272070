import { availableParallelism } from 'node:os';

/**
 * OpenMP threads for oneDNN so that oneDNN and the wasm backend never oversubscribe the cores.
 * The JS main thread runs wasm kernels and is also OpenMP's master thread inside a native call,
 * so only the pool workers add up: ompThreads = cores - wasmWorkers, where wasmWorkers =
 * wasmThreads - 1 (the wasm backend is single-threaded in Node, so oneDNN gets every core).
 * `SQUID_ONEDNN_THREADS` overrides.
 */
export function defaultThreads(wasmThreads = 1, cores = availableParallelism()): number {
  const env = Number.parseInt(process.env.SQUID_ONEDNN_THREADS ?? '', 10);
  if (Number.isFinite(env) && env > 0) return env;
  return Math.max(1, cores - Math.max(0, wasmThreads - 1));
}

/** The wasm backend's thread count (main thread included), 1 when it does not say. */
export function wasmThreadsOf(backend: unknown): number {
  // biome-ignore lint/suspicious/noExplicitAny: BackendWasm is not part of tfjs-core's public types
  const n = (backend as any)?.wasm?.tfjs?.getThreadsCount?.();
  return typeof n === 'number' && n > 0 ? n : 1;
}

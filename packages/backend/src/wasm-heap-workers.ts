// JS loops over the wasm heap, split across the wasm thread count.
//
// Why: a few of our wasm kernels are plain JS loops over heap views (transposes that wasm's own
// Transpose kernel does ~2× slower). With threaded wasm the heap is one SharedArrayBuffer, so
// worker threads can run part of such a loop while the main thread runs the rest; otherwise
// these loops stay on one core while XNNPACK's work uses all of them. Each task is a
// self-contained function of (heap, args, lo, hi) over a range of its outer loop; its source is
// what the workers evaluate, so it must not refer to anything outside itself. A task only
// copies or computes elementwise, so any split gives the same bits.
// No import of node:worker_threads here: the caller hands the Worker class in, so this module
// (reached from tf.ts through the gradient kernels) stays loadable in a browser.
import type { Worker, WorkerOptions } from 'node:worker_threads';

/** `node:worker_threads`' Worker constructor, or one with the same shape. */
export type WorkerClass = new (source: string, options: WorkerOptions) => Worker;

/** A `WebAssembly.Memory` (the lib settings here have no WebAssembly types). */
export interface WasmMemory {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
}

/**
 * The whole heap of a tfjs-backend-wasm backend as floats, and a tensor's offset into it in
 * floats. Take it after the last allocation: growing the heap replaces its buffer.
 */
export function heapOf(backend: object): { heap: Float32Array; offset: (t: { dataId: object }) => number } {
  const internals = backend as {
    wasm: { HEAPF32: Float32Array };
    dataIdMap: { get(dataId: object): { memoryOffset: number } };
  };
  return {
    heap: internals.wasm.HEAPF32,
    offset: (t) => internals.dataIdMap.get(t.dataId).memoryOffset / 4,
  };
}

/** `heap` = the wasm heap as floats; `args` = the task's arguments; do rows [lo, hi). */
export type HeapRangeTask = (heap: Float32Array, args: Float64Array, lo: number, hi: number) => void;

const tasks: HeapRangeTask[] = [];
const MAX_ARGS = 16;
/** Below this many elements of work a wake-up costs more than it saves. */
const MIN_PARALLEL_ELEMENTS = 1 << 18;
const WAIT_LIMIT_MS = 60_000;

/** Registers a task before first use (at module load); returns its handle for {@link runHeapTask}. */
export function defineHeapTask(fn: HeapRangeTask): number {
  if (pool) throw new Error('@squid-ad/backend: heap tasks must be defined before the first parallel run');
  tasks.push(fn);
  return tasks.length - 1;
}

interface Pool {
  memory: WasmMemory;
  workers: Worker[];
  /** [0] generation, [1] finished parts, [2] task, [3] failures. */
  ctrl: Int32Array;
  /** [0, MAX_ARGS) task arguments, then lo/hi per worker. */
  args: Float64Array;
}

let pool: Pool | undefined;
let wanted: { memory: WasmMemory; threads: number; Worker: WorkerClass } | undefined;

/**
 * Sets how many threads heap tasks may use on this wasm heap (1 = the main thread only), started
 * as `Worker`s (node:worker_threads').
 */
export function setHeapWorkerThreads(
  memory: WasmMemory | undefined,
  threads: number,
  Worker?: WorkerClass,
): void {
  if (pool && (pool.memory !== memory || pool.workers.length !== threads - 1)) {
    for (const w of pool.workers) void w.terminate();
    pool = undefined;
  }
  wanted =
    memory &&
    Worker &&
    threads > 1 &&
    typeof SharedArrayBuffer !== 'undefined' &&
    memory.buffer instanceof SharedArrayBuffer
      ? { memory, threads, Worker }
      : undefined;
}

function workerSource(): string {
  return `
const { workerData } = require('node:worker_threads');
const { memory, index } = workerData;
const ctrl = new Int32Array(workerData.ctrl);
const args = new Float64Array(workerData.args);
const tasks = [${tasks.map((t) => `(${t.toString()})`).join(',\n')}];
// From 0, not the current value: a task posted while this worker was still starting must run.
let generation = 0;
for (;;) {
  Atomics.wait(ctrl, 0, generation);
  generation = Atomics.load(ctrl, 0);
  try {
    // Read per task: the heap may have grown (a new, longer buffer) since the last one.
    tasks[ctrl[2]](new Float32Array(memory.buffer), args, args[${MAX_ARGS} + 2 * index], args[${MAX_ARGS} + 2 * index + 1]);
  } catch {
    Atomics.add(ctrl, 3, 1);
  }
  Atomics.add(ctrl, 1, 1);
  Atomics.notify(ctrl, 1);
}`;
}

function startPool(): Pool | undefined {
  if (pool || !wanted) return pool;
  const ctrl = new Int32Array(new SharedArrayBuffer(4 * 4));
  const args = new Float64Array(new SharedArrayBuffer(8 * (MAX_ARGS + 2 * wanted.threads)));
  const source = workerSource();
  const workers = Array.from({ length: wanted.threads - 1 }, (_, index) => {
    const w = new wanted!.Worker(source, {
      eval: true,
      workerData: { memory: wanted!.memory, ctrl: ctrl.buffer, args: args.buffer, index },
    });
    w.unref(); // idle workers must not keep the process alive
    return w;
  });
  pool = { memory: wanted.memory, workers, ctrl, args };
  return pool;
}

/** Worker threads running heap tasks now (0 until a large enough task ran with threads > 1). */
export function heapWorkerCount(): number {
  return pool?.workers.length ?? 0;
}

/**
 * Runs `task` over rows [0, rows) of `rowElements` elements each: split across the heap workers
 * and the calling thread when threads were set above 1 and the work is large enough, else on the
 * calling thread. `heap` must view the current wasm heap.
 */
export function runHeapTask(
  task: number,
  heap: Float32Array,
  taskArgs: number[],
  rows: number,
  rowElements: number,
): void {
  const fn = tasks[task];
  const p = rows * rowElements >= MIN_PARALLEL_ELEMENTS && rows > 1 ? startPool() : undefined;
  const args = p?.args ?? Float64Array.from(taskArgs);
  if (!p) {
    fn(heap, args, 0, rows);
    return;
  }
  args.set(taskArgs);
  const parts = p.workers.length + 1;
  const bound = (i: number) => Math.round((rows * i) / parts);
  for (let w = 0; w < p.workers.length; w++) {
    args[MAX_ARGS + 2 * w] = bound(w + 1);
    args[MAX_ARGS + 2 * w + 1] = bound(w + 2);
  }
  const { ctrl } = p;
  ctrl[2] = task;
  const finished = Atomics.load(ctrl, 1);
  const failures = Atomics.load(ctrl, 3);
  Atomics.add(ctrl, 0, 1);
  Atomics.notify(ctrl, 0);
  fn(heap, args, 0, bound(1));
  const started = Date.now();
  for (let now = Atomics.load(ctrl, 1); now - finished < p.workers.length; now = Atomics.load(ctrl, 1)) {
    if (Date.now() - started > WAIT_LIMIT_MS) {
      throw new Error(`@squid-ad/backend: a heap worker did not finish within ${WAIT_LIMIT_MS / 1000} s`);
    }
    Atomics.wait(ctrl, 1, now, 1000);
  }
  if (Atomics.load(ctrl, 3) !== failures) {
    // A worker threw (it should not): redo its rows here so the result is still complete.
    for (let w = 0; w < p.workers.length; w++) fn(heap, args, bound(w + 1), bound(w + 2));
  }
}

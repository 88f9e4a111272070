// matMul throughput on wasm: squid's BatchMatMul (transposes through the fast path) against the
// stock tfjs-backend-wasm kernel, for every transpose combination, 2-D and batched, at 1 thread
// and at every logical core. One JSON line per measurement:
// { bench, threads, kernel, shape, transposeA, transposeB, ms, cpuMs, gflops, vsPlain }.
// `vsPlain` = time / time of the same product without transposes (goal: ≤ 1.25).
// Flags: --quick (smaller sizes, fewer repeats). Timings are the minimum of several runs:
// other processes sharing the CPU only ever make a run slower.
import { describeBackend, initBackend, logicalCores, Rng, tf } from '../src/index.js';
import { stockWasmMatMul } from '../src/wasm-matmul.js';
import { initWasmBackend } from '../src/wasm-threads.js';

const quick = process.argv.includes('--quick');

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ bench: 'matmul', ...line })}\n`);
}

/**
 * Minimum wall time of `fn` in ms over `reps` runs after one warm-up, and the process CPU time
 * (all threads) of that run: CPU time barely depends on other load, wall time does.
 */
function minTime(fn: () => tf.Tensor, reps: number): { ms: number; cpuMs: number } {
  fn().dispose();
  let best = { ms: Number.POSITIVE_INFINITY, cpuMs: 0 };
  for (let i = 0; i < reps; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const out = fn();
    out.dataSync();
    const ms = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    if (ms < best.ms) best = { ms, cpuMs: (cpu.user + cpu.system) / 1000 };
    out.dispose();
  }
  return best;
}

/** Runs `fn` with the stock wasm BatchMatMul registered instead of squid's. */
function withStock<T>(fn: () => T): T {
  const ours = tf.getKernel('BatchMatMul', 'wasm')!;
  const stock = stockWasmMatMul('BatchMatMul')!;
  tf.unregisterKernel('BatchMatMul', 'wasm');
  tf.registerKernel(stock);
  try {
    return fn();
  } finally {
    tf.unregisterKernel('BatchMatMul', 'wasm');
    tf.registerKernel(ours);
  }
}

const swap = (s: number[]) => [...s.slice(0, -2), s.at(-1)!, s.at(-2)!];
const n = quick ? 512 : 1024;
const cases: { name: string; a: number[]; b: number[]; stockToo: boolean }[] = [
  { name: `${n}x${n}x${n}`, a: [n, n], b: [n, n], stockToo: !quick },
  { name: '256x512x256', a: [256, 512], b: [512, 256], stockToo: true },
  // Attention-like: 16 heads·batches of 256 tokens with 64 channels.
  { name: '16x256x64x256', a: [16, 256, 64], b: [16, 64, 256], stockToo: true },
];

const rng = Rng.fromSeed(1);
console.error(describeBackend(await initBackend({ backend: 'wasm', nativeKernels: false, threads: 1 })));
const counts = [...new Set([1, Math.min(logicalCores(), 8)])];
for (const threads of counts) {
  const report = await initWasmBackend(threads);
  for (const c of cases) {
    const flops = 2 * c.a.reduce((p, d) => p * d, 1) * c.b.at(-1)!;
    let plainMs = 0;
    for (const [tA, tB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      const a = tf.randomNormal(tA ? swap(c.a) : c.a, 0, 1, 'float32', rng.tfSeed());
      const b = tf.randomNormal(tB ? swap(c.b) : c.b, 0, 1, 'float32', rng.tfSeed());
      const { ms, cpuMs } = minTime(() => tf.matMul(a, b, tA, tB), quick ? 3 : 7);
      if (!tA && !tB) plainMs = ms;
      const common = { threads: report.threads, shape: c.name, transposeA: tA, transposeB: tB };
      const stats = (t: { ms: number; cpuMs: number }) => ({
        ms: +t.ms.toFixed(2),
        cpuMs: +t.cpuMs.toFixed(1),
        gflops: +(flops / t.ms / 1e6).toFixed(1),
        vsPlain: +(t.ms / plainMs).toFixed(2),
      });
      emit({ ...common, kernel: 'squid', ...stats({ ms, cpuMs }) });
      // The stock slow path is single-threaded and ~20x slower: one thread is enough.
      if (c.stockToo && threads === 1) {
        const stock = withStock(() => minTime(() => tf.matMul(a, b, tA, tB), tA || tB ? 1 : 3));
        emit({ ...common, kernel: 'stock', ...stats(stock) });
      }
      a.dispose();
      b.dispose();
    }
  }
}

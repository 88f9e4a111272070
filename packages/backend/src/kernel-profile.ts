import { tf } from './tf.js';

/** Time spent in one kernel over a profiled call. */
export interface KernelTime {
  kernel: string;
  ms: number;
  calls: number;
  /** Fraction of the summed kernel time. */
  share: number;
}

/**
 * Runs `fn` under `tf.profile` and sums the time per kernel name, most expensive first (at most
 * `top`). Kernels nested in a custom op are counted in the op ("unnamed scope") and again alone.
 */
export async function kernelProfile(fn: () => unknown, top = 15): Promise<KernelTime[]> {
  const info = await tf.profile(() => {
    fn();
  });
  const byKernel = new Map<string, { ms: number; calls: number }>();
  for (const k of info.kernels) {
    const e = byKernel.get(k.name) ?? { ms: 0, calls: 0 };
    e.ms += Number(k.kernelTimeMs) || 0;
    e.calls++;
    byKernel.set(k.name, e);
  }
  const total = [...byKernel.values()].reduce((s, e) => s + e.ms, 0);
  const round = (v: number, d: number) => Math.round(v * 10 ** d) / 10 ** d;
  return [...byKernel]
    .sort((a, b) => b[1].ms - a[1].ms)
    .slice(0, top)
    .map(([kernel, e]) => ({ kernel, ms: round(e.ms, 1), calls: e.calls, share: round(e.ms / total, 3) }));
}

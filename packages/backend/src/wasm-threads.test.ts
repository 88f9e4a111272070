import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { MAX_WASM_THREADS, resolveThreads } from './wasm-threads.js';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const child = fileURLToPath(new URL('./wasm-threads.test-child.ts', import.meta.url));

interface ChildResult {
  status: number | null;
  signal: NodeJS.Signals | null;
  ms: number;
  out: {
    report: { wasmThreads?: { requested: number; threads: number; reason?: string } };
    bytes?: Record<string, string>;
    heapWorkers?: number;
  };
  stderr: string;
}

/** Runs the child script in its own process (threads are per process) with a hard timeout. */
function runChild(threads: string, mode: 'init' | 'compute', nodeFlags: string[] = []): ChildResult {
  const start = performance.now();
  const r = spawnSync(process.execPath, ['--import', 'tsx', ...nodeFlags, child, mode], {
    cwd: root,
    env: { ...process.env, SQUID_THREADS: threads },
    encoding: 'utf8',
    timeout: 90_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  let out: ChildResult['out'] = { report: {} };
  try {
    out = JSON.parse(line);
  } catch {
    // left empty: the assertions on status and out report the failure with stderr
  }
  // emscripten prints its whole minified glue with an error; the tail is what matters.
  return {
    status: r.status,
    signal: r.signal,
    ms: performance.now() - start,
    out,
    stderr: r.stderr.slice(-3000),
  };
}

describe('resolveThreads', () => {
  it('parses counts and auto, caps at the pool size, and rejects nonsense', () => {
    expect(resolveThreads(3)).toBe(3);
    expect(resolveThreads('2')).toBe(2);
    expect(resolveThreads(64)).toBe(MAX_WASM_THREADS);
    expect(resolveThreads('auto')).toBeGreaterThanOrEqual(1);
    expect(() => resolveThreads(0)).toThrow(/invalid threads "0".*positive integer or auto/);
    expect(() => resolveThreads('many')).toThrow(/SQUID_THREADS/);
  });
});

describe('threaded wasm in Node (tfjs-backend-wasm 4.22.0)', () => {
  it('a script that initialises 2 threads and returns exits by itself', () => {
    const r = runChild('2', 'init');
    expect(r.signal, r.stderr).toBeNull();
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.report.wasmThreads).toEqual({ requested: 2, threads: 2 });
  });

  it('conv forward/backward (JS transposes split over threads), matMul (all transposes), scalar arithmetic, row means and a training step are bit-identical at 1 and 2 threads', () => {
    const one = runChild('1', 'compute');
    const two = runChild('2', 'compute');
    for (const r of [one, two]) {
      expect(r.signal, r.stderr).toBeNull();
      expect(r.status, r.stderr).toBe(0);
    }
    expect(one.out.report.wasmThreads?.threads).toBe(1);
    expect(two.out.report.wasmThreads?.threads).toBe(2);
    const names = Object.keys(one.out.bytes ?? {});
    expect(names).toHaveLength(3 + 2 + 1 + 12 + 4 + 1 + 5);
    // The large filter gradient's transpose ran on a heap worker as well as the main thread.
    expect(one.out.heapWorkers).toBe(0);
    expect(two.out.heapWorkers).toBe(1);
    for (const name of names) {
      // Equal base64 strings = equal bytes; the name in the message tells which output differs.
      expect({ name, bytes: two.out.bytes?.[name] }).toEqual({ name, bytes: one.out.bytes?.[name] });
    }
    // Guard against comparing two empty results.
    const conv = Buffer.from(one.out.bytes!.conv, 'base64');
    expect(conv.byteLength).toBe(4 * 24 * 24 * 32 * 4);
    expect(new Float32Array(conv.buffer, conv.byteOffset, 8).some((v) => v !== 0)).toBe(true);
  });

  it('falls back to one thread and says why when the threaded build cannot run', () => {
    // A runtime without SharedArrayBuffer (as in a browser without cross-origin isolation):
    // pthreads are impossible, single-threaded wasm still works.
    const r = runChild('2', 'init', ['--import', 'data:text/javascript,delete globalThis.SharedArrayBuffer']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.out.report.wasmThreads).toEqual({
      requested: 2,
      threads: 1,
      reason: 'SharedArrayBuffer is not available',
    });
  });
});

// Conv kernel throughput on wasm (with squid's gradient kernels), stock wasm and cpu, plus a
// whole conv+BN+relu training step. Prints one JSON line per measurement:
// { backend, op, shape, ms, cpuMs, gflops, gflopsWall } (and { ..., ratio } for the training
// step). `gflops` uses the process's CPU time, i.e. throughput on one core, so that numbers stay
// meaningful on a shared machine; `ms`/`gflopsWall` are wall-clock. Flags: --quick,
// --backend=wasm|cpu.
import { describeBackend, initBackend, Rng, tf } from '../src/index.js';
import { stockWasmKernel } from '../src/wasm-kernels.js';

type Shape4 = [number, number, number, number];
interface Case {
  x: Shape4;
  k: number;
  co: number;
  stride: number;
  pad: 'same' | 'valid';
}

const quick = process.argv.includes('--quick');
// --backend=wasm (or cpu) limits the run to one backend.
const only = process.argv.find((a) => a.startsWith('--backend='))?.slice('--backend='.length);
const cases: Case[] = [
  { x: [16, 32, 32, 32], k: 3, co: 32, stride: 1, pad: 'same' },
  { x: [16, 32, 32, 32], k: 3, co: 32, stride: 2, pad: 'same' },
  { x: [16, 64, 64, 16], k: 3, co: 32, stride: 2, pad: 'same' },
  { x: [16, 16, 16, 64], k: 3, co: 64, stride: 1, pad: 'same' },
  { x: [8, 32, 32, 64], k: 1, co: 128, stride: 1, pad: 'valid' },
  { x: [16, 32, 32, 16], k: 4, co: 32, stride: 2, pad: 'same' },
];

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

interface Timing {
  /** Median wall-clock ms. */
  ms: number;
  /** Fastest run's CPU ms of this process (user + system): the time on one core, even when
   * other processes share the machine (wasm runs single-threaded here); the minimum, because
   * contention (cache, memory bandwidth, SMT siblings) only ever adds to it. */
  cpuMs: number;
}

function once(fn: () => void): Timing {
  const c0 = process.cpuUsage();
  const t0 = performance.now();
  fn();
  const ms = performance.now() - t0;
  const c = process.cpuUsage(c0);
  return { ms, cpuMs: (c.user + c.system) / 1000 };
}

/**
 * Timing of `fn` (median wall, fastest CPU), repeating until `budgetMs` is spent (at least `min` runs).
 * `budgetMs` 0 means one cold run (the cpu backend is slow enough for that).
 */
function time(fn: () => void, budgetMs: number, min = 3): Timing {
  if (budgetMs === 0) return once(fn);
  fn(); // warm-up: XNNPACK operator creation, heap growth
  const runs: Timing[] = [];
  const start = performance.now();
  while (runs.length < min || (performance.now() - start < budgetMs && runs.length < 50)) runs.push(once(fn));
  const median = (xs: number[]) => xs.sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return { ms: median(runs.map((r) => r.ms)), cpuMs: Math.min(...runs.map((r) => r.cpuMs)) };
}

/** One JSON line; `gflops` is per CPU-second (one core), `gflopsWall` per wall-clock second. */
function emitTiming(backend: string, op: string, shape: string, t: Timing, flops: number): void {
  emit({
    backend,
    op,
    shape,
    ms: +t.ms.toFixed(2),
    cpuMs: +t.cpuMs.toFixed(2),
    gflops: +(flops / Math.max(t.cpuMs, 1e-3) / 1e6).toFixed(2),
    gflopsWall: +(flops / t.ms / 1e6).toFixed(2),
  });
}

function convOps(c: Case, backendLabel: string, budgetMs: number, rng: Rng): void {
  const x = tf.randomNormal(c.x, 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const f = tf.randomNormal([c.k, c.k, c.x[3], c.co], 0, 0.1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const y = tf.conv2d(x, f, c.stride, c.pad);
  const dy = tf.onesLike(y);
  const [, oh, ow] = y.shape;
  const flops = 2 * c.x[0] * oh * ow * c.k * c.k * c.x[3] * c.co;
  const shape = `x=[${c.x}] f=[${c.k},${c.k},${c.x[3]},${c.co}] s=${c.stride} ${c.pad}`;
  const report = (op: string, fn: () => void) => {
    emitTiming(backendLabel, op, shape, time(fn, budgetMs), flops);
  };
  const gradAttrs = { strides: c.stride, pad: c.pad, dataFormat: 'NHWC' };
  const engine = tf.engine();
  if (backendLabel === 'wasm-stock') {
    const stock = stockWasmKernel('Conv2DBackpropInput');
    if (stock) {
      const backend = tf.backend();
      // It was unregistered before wasm initialised, so its one-time setup has not run yet.
      stock.setupFunc?.(backend);
      report('conv2d-input-grad', () => {
        const out = stock.kernelFunc({
          inputs: { dy, filter: f },
          attrs: { ...gradAttrs, inputShape: c.x },
          backend,
        }) as tf.TensorInfo;
        backend.disposeData(out.dataId);
      });
    }
    emit({ backend: backendLabel, op: 'conv2d-filter-grad', shape, error: 'no Conv2DBackpropFilter kernel' });
  } else {
    report('conv2d-forward', () => tf.conv2d(x, f, c.stride, c.pad).dispose());
    report('conv2d-input-grad', () =>
      (
        engine.runKernel(
          'Conv2DBackpropInput',
          { dy, filter: f },
          { ...gradAttrs, inputShape: c.x },
        ) as tf.Tensor
      ).dispose(),
    );
    report('conv2d-filter-grad', () =>
      (
        engine.runKernel(
          'Conv2DBackpropFilter',
          { x, dy },
          { ...gradAttrs, filterShape: f.shape },
        ) as tf.Tensor
      ).dispose(),
    );
  }
  tf.dispose([x, f, y, dy]);
}

/** conv(3×3)+BN+relu ×3 with a stride-2 conv and a linear head, batch 16 at 16×16: ms per SGD step. */
function trainStep(budgetMs: number, rng: Rng): { timing: Timing; flops: number } {
  const chans = [8, 16, 16, 32];
  const weights: tf.Variable[] = [];
  for (let i = 0; i < 3; i++) {
    weights.push(
      tf.variable(tf.randomNormal([3, 3, chans[i], chans[i + 1]], 0, 0.1, 'float32', rng.tfSeed())),
    );
    weights.push(tf.variable(tf.ones([chans[i + 1]])));
    weights.push(tf.variable(tf.zeros([chans[i + 1]])));
  }
  const head = tf.variable(tf.randomNormal([32, 10], 0, 0.1, 'float32', rng.tfSeed()));
  const x = tf.randomNormal([16, 16, 16, 8], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const labels = tf.oneHot(
    tf.tensor1d(
      Array.from({ length: 16 }, (_, i) => i % 10),
      'int32',
    ),
    10,
  );
  const opt = tf.train.sgd(0.01);
  const step = () => {
    const loss = opt.minimize(() => {
      let h: tf.Tensor4D = x;
      for (let i = 0; i < 3; i++) {
        h = tf.conv2d(h, weights[3 * i] as tf.Tensor4D, i === 1 ? 2 : 1, 'same');
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        h = tf.relu(tf.batchNorm(h, mean, variance, weights[3 * i + 2], weights[3 * i + 1], 1e-5));
      }
      const pooled = tf.mean(h, [1, 2]);
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(pooled, head));
    }, true);
    loss?.dataSync();
    loss?.dispose();
  };
  const timing = time(step, budgetMs);
  // Forward convs; a training step does ~3× that (forward + two gradients).
  const conv = (hw: number, ci: number, co: number) => 2 * 16 * hw * hw * 9 * ci * co;
  const flops = 3 * (conv(16, 8, 16) + conv(8, 16, 16) + conv(8, 16, 32));
  tf.dispose([...weights, head, x, labels]);
  opt.dispose();
  return { timing, flops };
}

const rng = Rng.fromSeed(1);
const budget = quick ? 300 : 1500;
const steps: Record<string, Timing> = {};
for (const backend of (['wasm', 'cpu'] as const).filter((b) => !only || b === only)) {
  // The status line (stderr) says what this part measured; stdout stays JSON lines.
  console.error(describeBackend(await initBackend({ backend, threads: 1, nativeKernels: false })));
  // cpu: the reference shape at batch 4 (same GFLOP/s; its filter gradient alone would take
  // minutes at batch 16), one cold run each.
  const cpuCase: Case = { ...cases[0], x: [4, 32, 32, 32] };
  const list = backend === 'cpu' ? [cpuCase] : quick ? cases.slice(0, 2) : cases;
  for (const c of list) {
    convOps(c, backend, backend === 'cpu' ? 0 : budget, rng);
    if (backend === 'wasm') convOps(c, 'wasm-stock', budget, rng);
  }
  const { timing, flops } = trainStep(backend === 'cpu' ? 0 : budget, rng);
  steps[backend] = timing;
  emitTiming(backend, 'train-step', 'x=[16,16,16,8] conv3x3+BN+relu 8→16→16(s2)→32, sgd', timing, flops);
}
if (steps.cpu && steps.wasm) {
  emit({
    backend: 'wasm/cpu',
    op: 'train-step-speedup',
    shape: 'cpu time / wasm time',
    ratio: +(steps.cpu.cpuMs / steps.wasm.cpuMs).toFixed(2),
    ratioWall: +(steps.cpu.ms / steps.wasm.ms).toFixed(2),
  });
}

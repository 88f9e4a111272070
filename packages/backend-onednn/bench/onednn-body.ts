// Body of onednn.bench.ts. oneDNN kernels against the wasm backend's own: per-op GFLOP/s (conv forward, backward-data,
// backward-filter, matMul) on SQUID-like shapes, training BatchNorm + ReLU fused vs a separate ReLU
// pass, ResizeBilinearGrad native vs JS, then a batch-16 conv-net training step with and
// without the native kernels. One JSON line per measurement on stdout:
// { bench, op, shape, backend, ms, gflops } and { bench: 'train-step', ..., speedup }.
// Flags: --quick (smaller time budget), --thread-sweep (training step per wasm/oneDNN thread
// count and OpenMP wait policy, one process each). Env: SQUID_ONEDNN_THREADS, SQUID_THREADS.
// TODO(squid model): add the digitanatomy / zhanglab steps (batch 16) and per-image inference
// with and without native kernels, next to the reference (3.38 s / 4.77 s per step, 113 / 128 ms
// per image), once @squid-ad/squid can build those presets.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describeBackend, initBackend, Rng, tf } from '@squid-ad/backend';
import {
  convParams,
  disableNativeKernels,
  enableNativeKernels,
  nativeAvailable,
  nativeKernelStats,
  oneDnn,
} from '../src/index.js';

const quick = process.argv.includes('--quick');
// --train-only: just the training step (used by the thread sweep, one process per setting).
const trainOnly = process.argv.includes('--train-only');
const budget = quick ? 300 : 1500;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/**
 * Median wall time of `fn` in ms after one warm-up run, within `budgetMs` (at least `min` runs),
 * and the process CPU time per run: on a shared machine the wall time also measures the
 * neighbours, while CPU ms (all threads) tracks the work itself.
 */
function time(fn: () => void, budgetMs: number, min = 3): { ms: number; cpuMs: number } {
  fn();
  const times: number[] = [];
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  while (times.length < min || (performance.now() - start < budgetMs && times.length < 100)) {
    const t0 = performance.now();
    fn();
    times.push(performance.now() - t0);
  }
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000 / times.length;
  times.sort((a, b) => a - b);
  return { ms: times[Math.floor(times.length / 2)], cpuMs };
}

type Shape4 = [number, number, number, number];
interface ConvCase {
  name: string;
  x: Shape4;
  k: number;
  co: number;
  stride: number;
}

// digitanatomy: 3x3 patches of 32 px, f = 32, so the encoder sees [16*9, 32, 32, *];
// zhanglab: 2x2 patches of 64 px; the discriminator runs 5x5 stride-2 convs on whole images.
const convCases: ConvCase[] = [
  { name: 'digit in_conv 32->32', x: [144, 32, 32, 32], k: 3, co: 32, stride: 1 },
  { name: 'digit down 32->64 s2', x: [144, 32, 32, 32], k: 3, co: 64, stride: 2 },
  { name: 'zhang 64->64 at 32px', x: [64, 32, 32, 64], k: 3, co: 64, stride: 1 },
  { name: 'zhang 128->128 at 16px', x: [64, 16, 16, 128], k: 3, co: 128, stride: 1 },
  { name: 'disc 5x5 s2 16->32', x: [16, 64, 64, 16], k: 5, co: 32, stride: 2 },
];
const matCases = [
  { name: 'queue read 144x1024 . 200x1024^T', a: [144, 1024], b: [200, 1024], ta: false, tb: true },
  { name: 'attention 16x8 heads', a: [128, 9, 128], b: [128, 8, 128], ta: false, tb: true },
  { name: 'linear grad 512x2048^T . 512x512', a: [512, 2048], b: [512, 512], ta: true, tb: false },
];

/** Wall ms, GFLOP/s, and GFLOP per CPU-second (the load-independent efficiency). */
function rates(flops: number, ms: number, cpuMs: number) {
  return {
    ms: +ms.toFixed(3),
    gflops: +(flops / ms / 1e6).toFixed(1),
    cpuMs: +cpuMs.toFixed(3),
    gflopsPerCpuSecond: +(flops / cpuMs / 1e6).toFixed(1),
  };
}

function convBench(rng: Rng, label: string): void {
  for (const c of convCases) {
    const pad: [[number, number], [number, number], [number, number], [number, number]] = [
      [0, 0],
      [(c.k - 1) / 2, (c.k - 1) / 2],
      [(c.k - 1) / 2, (c.k - 1) / 2],
      [0, 0],
    ];
    const x = tf.randomNormal(c.x, 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
    const f = tf.randomNormal([c.k, c.k, c.x[3], c.co], 0, 0.1, 'float32', rng.tfSeed()) as tf.Tensor4D;
    const y = tf.conv2d(x, f, c.stride, pad);
    const dy = tf.onesLike(y);
    const [, oh, ow] = y.shape;
    const flops = 2 * c.x[0] * oh * ow * c.k * c.k * c.x[3] * c.co;
    const attrs = { strides: c.stride, pad, dataFormat: 'NHWC', dilations: 1, dimRoundingMode: undefined };
    const ops: [string, () => tf.Tensor][] = [
      ['conv forward', () => tf.engine().runKernel('Conv2D', { x, filter: f }, attrs) as tf.Tensor],
      [
        'conv backward-data',
        () =>
          tf
            .engine()
            .runKernel('Conv2DBackpropInput', { dy, filter: f }, { ...attrs, inputShape: c.x }) as tf.Tensor,
      ],
      [
        'conv backward-filter',
        () =>
          tf
            .engine()
            .runKernel('Conv2DBackpropFilter', { x, dy }, { ...attrs, filterShape: f.shape }) as tf.Tensor,
      ],
    ];
    for (const [op, run] of ops) {
      const { ms, cpuMs } = time(() => tf.dispose(run()), budget);
      emit({ bench: 'op', op, shape: c.name, backend: label, ...rates(flops, ms, cpuMs) });
    }
    tf.dispose([x, f, y, dy]);
  }
  for (const m of matCases) {
    const a = tf.randomNormal(m.a, 0, 1, 'float32', rng.tfSeed());
    const b = tf.randomNormal(m.b, 0, 1, 'float32', rng.tfSeed());
    const y = tf.matMul(a, b, m.ta, m.tb);
    const k = m.ta ? m.a[m.a.length - 2] : m.a[m.a.length - 1];
    const flops = 2 * y.size * k;
    const { ms, cpuMs } = time(() => tf.dispose(tf.matMul(a, b, m.ta, m.tb)), budget);
    emit({ bench: 'op', op: 'matMul', shape: m.name, backend: label, ...rates(flops, ms, cpuMs) });
    tf.dispose([a, b, y]);
  }
}

/** What a first call, a new shape and a cached call cost (raw addon, no TF.js in between). */
function startupCosts(): void {
  const addon = oneDnn();
  const call = (n: number, c: number) => {
    const info = tf.backend_util.computeConv2DInfo([n, 8, 8, c], [3, 3, c, c], 1, 1, 'same');
    const x = new Float32Array(n * 64 * c);
    const w = new Float32Array(9 * c * c);
    const y = new Float32Array(n * 64 * c);
    const params = convParams(info);
    const t0 = performance.now();
    addon.convForward(x, w, null, y, params, 0);
    return { ms: performance.now() - t0, again: () => addon.convForward(x, w, null, y, params, 0) };
  };
  const first = call(1, 8);
  const fresh = call(2, 16);
  const reps = 2000;
  const t0 = performance.now();
  for (let i = 0; i < reps; i++) first.again();
  const cachedUs = ((performance.now() - t0) / reps) * 1000;
  emit({
    bench: 'startup',
    firstCallMs: +first.ms.toFixed(2),
    newShapeMs: +fresh.ms.toFixed(2),
    cachedCallUs: +cachedUs.toFixed(1),
    note: 'cached call = 1x8x8x8 3x3 conv incl. its compute',
  });
}

/** A SQUID-like net on 64 px images (bottleneck 16x16x128, 200 memory slots): residual double convs, stride-2 downs, a bottleneck matMul, an up path. */
function makeNet(rng: Rng) {
  const v = (shape: number[], scale: number) =>
    tf.variable(tf.randomNormal(shape, 0, scale, 'float32', rng.tfSeed()));
  const conv = (ci: number, co: number, k = 3) => v([k, k, ci, co], Math.sqrt(2 / (k * k * ci)));
  const w = {
    in1: conv(1, 32),
    in2: conv(32, 32),
    d1: conv(32, 64),
    d1b: conv(64, 64),
    d2: conv(64, 128),
    d2b: conv(128, 128),
    mem: v([200, 128 * 16 * 16], 0.01),
    u1: conv(128 + 64, 64),
    u2: conv(64 + 32, 32),
    out: conv(32, 1, 1),
  };
  const pad1: [[number, number], [number, number], [number, number], [number, number]] = [
    [0, 0],
    [1, 1],
    [1, 1],
    [0, 0],
  ];
  const c = (x: tf.Tensor4D, f: tf.Variable, s = 1) =>
    tf.relu(tf.conv2d(x, f as tf.Tensor4D, s, f.shape[0] === 1 ? 'valid' : pad1));
  const bn = (x: tf.Tensor4D) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2]);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))) as tf.Tensor4D;
  };
  const loss = (x: tf.Tensor4D) => {
    const s0 = c(bn(c(x, w.in1)), w.in2);
    const s1 = c(bn(c(s0, w.d1, 2)), w.d1b);
    const z = c(bn(c(s1, w.d2, 2)), w.d2b);
    const flat = tf.reshape(z, [z.shape[0], -1]);
    const att = tf.softmax(tf.matMul(flat, w.mem, false, true));
    const read = tf.reshape(tf.matMul(att, w.mem), z.shape) as tf.Tensor4D;
    const up1 = c(bn(tf.concat([s1, tf.image.resizeBilinear(read, [s1.shape[1], s1.shape[2]])], 3)), w.u1);
    const up2 = c(bn(tf.concat([s0, tf.image.resizeBilinear(up1, [s0.shape[1], s0.shape[2]])], 3)), w.u2);
    const recon = tf.sigmoid(tf.conv2d(up2, w.out as tf.Tensor4D, 1, 'valid'));
    return tf.mean(tf.square(tf.sub(recon, x))) as tf.Scalar;
  };
  const opt = tf.train.adam(1e-4);
  return {
    step: (x: tf.Tensor4D) => tf.tidy(() => opt.minimize(() => loss(x), true)?.dataSync()),
    dispose: () => {
      tf.dispose(Object.values(w));
      opt.dispose();
    },
  };
}

async function main(): Promise<void> {
  const { available, reason } = nativeAvailable();
  const report = await initBackend({ backend: 'wasm', nativeKernels: false });
  console.error(describeBackend(report));
  const wasmThreads = (report as { wasmThreads?: { threads?: number } }).wasmThreads;
  if (!available) {
    emit({ bench: 'onednn', skipped: true, reason });
    return;
  }
  startupCosts();
  const status = enableNativeKernels({ backends: ['wasm'] });
  emit({ bench: 'onednn', version: status.version, ompThreads: status.threads, wasmThreads });
  disableNativeKernels();

  const rng = Rng.fromSeed(1);
  if (!trainOnly) {
    convBench(rng, 'wasm');
    enableNativeKernels({ backends: ['wasm'] });
    convBench(rng, 'wasm+onednn');
    batchNormBench();
    resizeGradBench();
  }

  // Batch 16 of 64x64 images (the digitanatomy patch count times batch would be 144 patches of 32 px).
  const x = tf.randomUniform([16, 64, 64, 1], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const results: Record<string, number> = {};
  const labels = process.argv.includes('--native-only')
    ? (['wasm+onednn'] as const)
    : (['wasm', 'wasm+onednn'] as const);
  for (const label of labels) {
    if (label === 'wasm') disableNativeKernels();
    else enableNativeKernels({ backends: ['wasm'] });
    const net = makeNet(Rng.fromSeed(2));
    const { ms, cpuMs } = time(() => net.step(x), budget * 4, 3);
    net.dispose();
    results[label] = ms;
    const threads = { wasm: wasmThreads?.threads ?? 1, omp: label === 'wasm' ? 0 : oneDnn().getNumThreads() };
    emit({
      bench: 'train-step',
      net: 'squid-like conv net',
      batch: 16,
      image: 64,
      backend: label,
      threads,
      ms: +ms.toFixed(1),
      cpuMs: +cpuMs.toFixed(1),
      imagesPerSecond: +((16 / ms) * 1000).toFixed(2),
    });
  }
  if (!results.wasm) return;
  emit({
    bench: 'train-step',
    net: 'squid-like conv net',
    batch: 16,
    speedup: +(results.wasm / results['wasm+onednn']).toFixed(2),
    nativeCalls: Object.fromEntries(Object.entries(nativeKernelStats()).map(([k, s]) => [k, s.native])),
    primitives: (({ implementations, ...counts }) => ({
      ...counts,
      kinds: [...new Set(Object.values(implementations))],
    }))(oneDnn().cacheStats()),
  });
  x.dispose();
}

interface Timing {
  ms: number;
  cpuMs: number;
}

/**
 * Two ways of running one op, alternated three times (`before` switches to a way, untimed):
 * each way's median wall and CPU ms, and how many times faster `fast` ran than `slow`.
 */
function alternate(
  slow: { run: () => void; before?: () => void },
  fast: { run: () => void; before?: () => void },
) {
  const times: [Timing[], Timing[]] = [[], []];
  for (let r = 0; r < 3; r++) {
    for (const [i, way] of [slow, fast].entries()) {
      way.before?.();
      times[i].push(time(way.run, budget / 3));
    }
  }
  const median = (v: Timing[], k: keyof Timing) => v.map((t) => t[k]).sort((a, b) => a - b)[1];
  const [s, f] = times.map((v) => ({ ms: median(v, 'ms'), cpuMs: median(v, 'cpuMs') }));
  const round = (t: Timing) => ({ ms: +t.ms.toFixed(3), cpuMs: +t.cpuMs.toFixed(3) });
  return {
    slow: round(s),
    fast: round(f),
    speedup: +(s.ms / f.ms).toFixed(2),
    cpuSpeedup: +(s.cpuMs / f.cpuMs).toFixed(2),
  };
}

/**
 * Training BatchNorm + ReLU forward at SQUID's shapes: the ReLU fused into oneDNN's primitive
 * (what the kernel runs) against the former separate pass, alternated in this process.
 */
function batchNormBench(): void {
  const addon = oneDnn();
  const cases: [string, Shape4][] = [
    ['digit encoder level 1 (batch 16)', [16, 96, 96, 32]],
    ['digit patches 32 px (16 x 9)', [144, 32, 32, 32]],
    ['digit patches 8 px, 64 ch', [144, 8, 8, 64]],
  ];
  for (const [name, [n, h, w, c]] of cases) {
    const size = n * h * w * c;
    const x = Float32Array.from({ length: size }, (_, i) => Math.sin(i * 0.37));
    const gamma = new Float32Array(c).fill(1);
    const beta = new Float32Array(c);
    const [y, mean, variance] = [new Float32Array(size), new Float32Array(c), new Float32Array(c)];
    const run = (relu: 1 | 2) => () =>
      addon.batchNormForward!(x, gamma, beta, y, mean, variance, Int32Array.of(n, h, w, c, relu), 1e-5);
    const { slow, fast, speedup, cpuSpeedup } = alternate({ run: run(2) }, { run: run(1) });
    emit({
      bench: 'op',
      op: 'batchNormForward+relu',
      shape: name,
      fused: fast,
      separatePass: slow,
      speedup,
      cpuSpeedup,
    });
  }
}

/**
 * The gradient of SQUID's bilinear ×2 upsampling (half-pixel centres): the addon's kernel
 * against @squid-ad/backend's JS one (same bits), alternated in this process.
 */
function resizeGradBench(): void {
  const cases: Shape4[] = [
    [16, 48, 48, 32],
    [16, 24, 24, 64],
    [144, 16, 16, 64],
  ];
  for (const [n, h, w, c] of cases) {
    const images = tf.zeros([n, h, w, c]);
    const dy = tf.randomUniform([n, 2 * h, 2 * w, c], -1, 1, 'float32', 1);
    const attrs = { alignCorners: false, halfPixelCenters: true } as unknown as tf.NamedAttrMap;
    const run = () => {
      const dx = tf.engine().runKernel('ResizeBilinearGrad', { images, dy }, attrs) as tf.Tensor;
      dx.dataSync();
      dx.dispose();
    };
    const { slow, fast, speedup, cpuSpeedup } = alternate(
      { run, before: disableNativeKernels },
      { run, before: () => enableNativeKernels({ backends: ['wasm'] }) },
    );
    emit({
      bench: 'op',
      op: 'ResizeBilinearGrad',
      shape: `[${n}, ${h}, ${w}, ${c}] x2`,
      js: slow,
      native: fast,
      speedup,
      cpuSpeedup,
    });
    tf.dispose([images, dy]);
  }
}

/**
 * Every (wasm threads, oneDNN threads) pair on this machine, each in its own process because the
 * wasm thread pool is fixed at init: shows whether the default (their sum = cores + 1, the main
 * thread being shared) beats the alternatives.
 */
function threadSweep(): void {
  const self = fileURLToPath(import.meta.url);
  const settings = [
    { wasm: 1, omp: 2, wait: 'passive' },
    { wasm: 1, omp: 2, wait: 'active' },
    { wasm: 1, omp: 1, wait: 'passive' },
    { wasm: 2, omp: 1, wait: 'passive' },
    { wasm: 2, omp: 2, wait: 'passive' },
  ];
  for (const s of settings) {
    const args = [...process.execArgv, self, '--train-only', '--native-only', ...(quick ? ['--quick'] : [])];
    const res = spawnSync(process.execPath, args, {
      env: {
        ...process.env,
        SQUID_THREADS: String(s.wasm),
        SQUID_ONEDNN_THREADS: String(s.omp),
        OMP_WAIT_POLICY: s.wait,
      },
      encoding: 'utf8',
    });
    for (const line of res.stdout.split('\n')) {
      if (line.includes('"train-step"') && line.includes('"ms"')) {
        process.stdout.write(`${JSON.stringify({ ...JSON.parse(line), sweep: s })}\n`);
      }
    }
  }
}

if (process.argv.includes('--thread-sweep')) threadSweep();
else await main();

// Body of bf16.bench.ts: oneDNN's float32 against its bfloat16 kernels (the addon called
// directly, float32 arrays in and out either way, so bf16's conversions are included) at SQUID's
// layer shapes, forward, backward-data and backward-weights of 3x3 NHWC convolutions. Calls are
// interleaved (every rep runs every shape, op and precision, the precision order alternating), so
// a load that comes and goes on a shared machine hits both precisions alike; medians per cell.
// JSON lines on stdout: { bench: 'bf16', op, shape, precision, ms, cpuMs, gflops } per cell, then
// { bench: 'bf16', op, shape, ratio, cpuRatio } (float32 time / bfloat16 time) per op and for the
// forward + backward sum. Flags: --quick (5 reps), --reps N (default 15).
import { loadavg } from 'node:os';
import { Rng, tf } from '@squid-ad/backend';
import { bf16Support, convParams, defaultThreads, nativeAvailable, oneDnn } from '../src/index.js';

const argv = process.argv;
const repsFlag = argv.indexOf('--reps');
const reps = repsFlag >= 0 ? Number(argv[repsFlag + 1]) : argv.includes('--quick') ? 5 : 15;

function emit(line: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// The shapes of issue 26: digitanatomy's encoder levels (9 patches x batch 16 = 144 at 32, 16, 8 px)
// and zhanglab's first level (batch 16 at 96 px), 3x3 convs keeping the channel count (N x C x H x W
// -> O, stored NHWC). Then two more of digitanatomy's convs, a stride-2 down conv and a decoder
// conv on concatenated skip features, where oneDNN 2.6's bf16 weight gradient is far slower than
// float32 (why Conv2DBackpropFilter stays float32 by default, see BF16_KERNELS).
const SHAPES: { name: string; x: [number, number, number, number]; o: number; stride: number }[] = [
  { name: '144x32x32x32 -> 32', x: [144, 32, 32, 32], o: 32, stride: 1 },
  { name: '144x64x16x16 -> 64', x: [144, 16, 16, 64], o: 64, stride: 1 },
  { name: '144x128x8x8 -> 128', x: [144, 8, 8, 128], o: 128, stride: 1 },
  { name: '16x64x96x96 -> 64', x: [16, 96, 96, 64], o: 64, stride: 1 },
  { name: '144x32x32x32 -> 64 stride 2', x: [144, 32, 32, 32], o: 64, stride: 2 },
  { name: '144x384x8x8 -> 128', x: [144, 8, 8, 384], o: 128, stride: 1 },
];
const OPS = ['forward', 'backward-data', 'backward-weights'] as const;
const PRECISIONS = ['float32', 'bfloat16'] as const;

type Run = () => void;

function main(): void {
  const { available, reason } = nativeAvailable();
  if (!available) {
    emit({ bench: 'bf16', skipped: true, reason });
    return;
  }
  const addon = oneDnn();
  const support = bf16Support(addon);
  if (!support.runs) {
    emit({ bench: 'bf16', skipped: true, reason: support.reason });
    return;
  }
  addon.setNumThreads(defaultThreads());
  emit({
    bench: 'bf16',
    version: addon.version(),
    isa: support.isa,
    nativeBf16: support.native,
    ompThreads: addon.getNumThreads(),
    ompWaitPolicy: process.env.OMP_WAIT_POLICY,
    reps,
    loadavg: loadavg().map((l) => +l.toFixed(2)),
  });

  const rng = Rng.fromSeed(1);
  const fill = (len: number) => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
  const runs = new Map<string, Run>();
  const flops = new Map<string, number>();
  const cell = (shape: string, op: string, precision: string) => `${shape}|${op}|${precision}`;
  for (const s of SHAPES) {
    const [n, h, w, c] = s.x;
    const info = tf.backend_util.computeConv2DInfo(s.x, [3, 3, c, s.o], s.stride, 1, 'same');
    const params = convParams(info);
    const x = fill(n * h * w * c);
    const f = fill(9 * c * s.o);
    const dy = fill(n * info.outHeight * info.outWidth * s.o);
    const [y, dx, df] = [new Float32Array(dy.length), new Float32Array(x.length), new Float32Array(f.length)];
    for (const p of PRECISIONS) {
      const bf = p === 'bfloat16';
      const fwd = bf ? addon.convForwardBf16 : addon.convForward;
      const bwdData = bf ? addon.convBackwardDataBf16 : addon.convBackwardData;
      const bwdWei = bf ? addon.convBackwardWeightsBf16 : addon.convBackwardWeights;
      if (!fwd || !bwdData || !bwdWei) throw new Error('addon without bfloat16 kernels');
      runs.set(cell(s.name, 'forward', p), () => fwd(x, f, null, y, params, 0));
      runs.set(cell(s.name, 'backward-data', p), () => bwdData(dy, f, dx, params));
      runs.set(cell(s.name, 'backward-weights', p), () => bwdWei(x, dy, df, params));
    }
    for (const op of OPS) flops.set(`${s.name}|${op}`, 2 * n * info.outHeight * info.outWidth * 9 * c * s.o);
  }

  // Warm-up: primitive creation, JIT, the scratch buffers' first touch.
  for (const run of runs.values()) run();
  const wall = new Map<string, number[]>();
  const cpu = new Map<string, number[]>();
  for (let r = 0; r < reps; r++) {
    const order = r % 2 === 0 ? PRECISIONS : ([...PRECISIONS].reverse() as unknown as typeof PRECISIONS);
    for (const s of SHAPES) {
      for (const op of OPS) {
        for (const p of order) {
          const k = cell(s.name, op, p);
          const c0 = process.cpuUsage();
          const t0 = performance.now();
          runs.get(k)?.();
          const ms = performance.now() - t0;
          const c1 = process.cpuUsage(c0);
          wall.set(k, [...(wall.get(k) ?? []), ms]);
          cpu.set(k, [...(cpu.get(k) ?? []), (c1.user + c1.system) / 1000]);
        }
      }
    }
  }

  for (const s of SHAPES) {
    const total = { float32: { ms: 0, cpuMs: 0 }, bfloat16: { ms: 0, cpuMs: 0 } };
    for (const op of OPS) {
      const med = {} as Record<(typeof PRECISIONS)[number], { ms: number; cpuMs: number }>;
      for (const p of PRECISIONS) {
        const k = cell(s.name, op, p);
        const ms = median(wall.get(k) ?? []);
        const cpuMs = median(cpu.get(k) ?? []);
        med[p] = { ms, cpuMs };
        total[p].ms += ms;
        total[p].cpuMs += cpuMs;
        const gflops = (flops.get(`${s.name}|${op}`) ?? 0) / ms / 1e6;
        emit({
          bench: 'bf16',
          op,
          shape: s.name,
          precision: p,
          ms: +ms.toFixed(2),
          cpuMs: +cpuMs.toFixed(2),
          gflops: +gflops.toFixed(1),
        });
      }
      emit({
        bench: 'bf16',
        op,
        shape: s.name,
        ratio: +(med.float32.ms / med.bfloat16.ms).toFixed(2),
        cpuRatio: +(med.float32.cpuMs / med.bfloat16.cpuMs).toFixed(2),
      });
    }
    emit({
      bench: 'bf16',
      op: 'forward+backward',
      shape: s.name,
      float32Ms: +total.float32.ms.toFixed(2),
      bfloat16Ms: +total.bfloat16.ms.toFixed(2),
      ratio: +(total.float32.ms / total.bfloat16.ms).toFixed(2),
      cpuRatio: +(total.float32.cpuMs / total.bfloat16.cpuMs).toFixed(2),
    });
  }
  const impls = addon.cacheStats().implementations;
  emit({
    bench: 'bf16',
    loadavg: loadavg().map((l) => +l.toFixed(2)),
    implementations: [...new Set(Object.values(impls))].sort(),
  });
}

main();

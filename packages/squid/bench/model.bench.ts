// Speed and memory of the official presets, and speed-ups measured in this same run between the
// configurations below (`op: 'speedup'` lines against the first configuration measured). The
// official PyTorch code's figures (`officialElsewhere`) were measured in another session and are
// labelled so: they are context, never a ratio.
//
// Each measurement runs in its own process (threads are fixed at backend start-up, and a crash
// becomes an error line). Configurations, on the active backend (wasm here):
//   wasm×1 / wasm×N      the wasm backend's own kernels, 1 thread vs every core (issue #8)
//   onednn×1 / onednn×N  with @squid-ad/backend-onednn's kernels in float32, oneDNN on 1 thread vs every
//                        core (wasm itself single-threaded, so the sum never passes the cores)
//   onednn×N-bf16        onednn×N with bfloat16 conv / matMul operands where that pays
//   onednn×N-auto        the CLIs' default, precision auto (bf16 but for the weight gradients)
// and for each preset:
//   op 'train'   one SquidTrainer iteration at batch 16 (D step + G step + optimizers + queue
//                update; for n_critic = 2 the mean of a G+D and a D-only iteration, as the
//                reference's per-iteration figure): median of 4 cycles after 3 warm-up cycles;
//                plus the peak of tensor memory (MB);
//   op 'infer'   scoring as squid-eval does (discriminate: eval reconstruction, per-image
//                discriminator, reconstruction errors), 1 and 16 images per call, ms per image;
//                `mode` 'batched' (the batch in one forward, what squid runs) and 'per-image'
//                (one forward per image, the former path; same numbers bit for bit), timed
//                alternately in the same process, and their ratio (`op: 'batched-speedup'`);
//                the weights are marked constant as loadRun does, and with the oneDNN kernels an
//                unmarked twin ('batched-unmarked': conversions on every call) gives
//                `op: 'constant-weights-speedup'`;
//   op 'profile-train' / 'profile-infer' (with `--profile`) time per kernel, top 15.
// One JSON line each: { bench: 'squid-model', config, backend, nativeKernels, threads, preset,
// op, batch, ms, imagesPerSec, officialElsewhere, peakMB, ... }, then per preset, op and batch
// { op: 'speedup', baseline, config, speedup } (> 1 = faster than the baseline, same run).
// Flags: --quick (1 timed run), --configs a,b (subset; the first is the baseline), --presets a,b,
// --ops train,infer (subset), --profile. Inference: the median (and minimum) of 9 calls at
// batch 1, 3 at batch 16.
//
// --official DIR (a checkout of github.com/tiangexiang/SQUID) times the official PyTorch code in
// the same sitting: for each configuration, preset and op, squid and official/time_official.py
// (same op, same thread count, `config: 'official×N'`) run in the order squid, official,
// official, squid, so that a drift in machine load hits both alike. Each run prints its own
// lines (squid's twice, the official code's with `impl: 'official'`), then per preset, op, batch
// (and mode) { op: 'vs-official', ms, msPerImage, officialSameRun: { ms, msPerImage, ratio } }:
// the mean of each side's two medians, ratio = official / squid (> 1 = squid faster). Needs a
// python3 with torch (`apt-get install python3-torch libopenblas0-openmp`; SQUID_OFFICIAL_PYTHON
// picks the interpreter); without it the bench says so and measures squid alone.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  describeBackend,
  initBackend,
  kernelProfile,
  markConstant,
  measurePeakMemory,
  Rng,
  tf,
} from '@squid-ad/backend';
import { createSquidModel, discriminate, type PresetName, presets, SquidTrainer } from '../src/index.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = argv.includes('--quick');
const cores = availableParallelism();

/**
 * The official PyTorch code's figures from another session (issue #9; issue #15 measured 2.25–2.44 s
 * per digitanatomy iteration side by side on a 2-core machine): context only, not same-run.
 */
const OFFICIAL_ELSEWHERE = {
  digitanatomy: { trainMsPerIteration: 3380, inferMsPerImage: 113 },
  zhanglab: { trainMsPerIteration: 4770, inferMsPerImage: 128 },
} as const;
const ELSEWHERE_NOTE = 'official PyTorch code, measured in another session (issue #9), not in this run';

const CONFIGS: Record<string, Record<string, string>> = {
  'wasm×1': { SQUID_THREADS: '1', SQUID_NATIVE_KERNELS: '0' },
  [`wasm×${cores}`]: { SQUID_THREADS: String(cores), SQUID_NATIVE_KERNELS: '0' },
  // float32 by name: initBackend's default, auto, is bfloat16 on a CPU with native bf16.
  'onednn×1': { SQUID_THREADS: '1', SQUID_ONEDNN_THREADS: '1', SQUID_ONEDNN_PRECISION: 'float32' },
  [`onednn×${cores}`]: {
    SQUID_THREADS: '1',
    SQUID_ONEDNN_THREADS: String(cores),
    SQUID_ONEDNN_PRECISION: 'float32',
  },
  // The same with the conv and matMul kernels in bfloat16 where that pays (issue #26).
  [`onednn×${cores}-bf16`]: {
    SQUID_THREADS: '1',
    SQUID_ONEDNN_THREADS: String(cores),
    SQUID_ONEDNN_PRECISION: 'bfloat16',
  },
  // What the CLIs run by default: auto, bfloat16 but for the weight gradients on a native-bf16 CPU.
  [`onednn×${cores}-auto`]: {
    SQUID_THREADS: '1',
    SQUID_ONEDNN_THREADS: String(cores),
    SQUID_ONEDNN_PRECISION: 'auto',
  },
};

type Op = 'train' | 'infer' | 'profile-train' | 'profile-infer';
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

/**
 * Median and fastest of `n` timed calls of each function after one warm-up call each, the
 * functions taking turns so that a change in machine load hits them alike.
 */
function timedAlternately(
  fns: Record<string, () => void>,
  n: number,
): Record<string, { ms: number; minMs: number; firstMs: number }> {
  const names = Object.keys(fns);
  const times: Record<string, number[]> = Object.fromEntries(names.map((k) => [k, []]));
  const first: Record<string, number> = {};
  for (let r = 0; r <= n; r++) {
    for (const k of names) {
      const t = performance.now();
      fns[k]();
      const ms = performance.now() - t;
      if (r === 0) first[k] = ms;
      else times[k].push(ms);
    }
  }
  return Object.fromEntries(
    names.map((k) => {
      const v = times[k].sort((a, b) => a - b);
      return [k, { ms: v[Math.floor(v.length / 2)], minMs: v[0], firstMs: first[k] }];
    }),
  );
}

async function measure(config: string, preset: PresetName, op: Op): Promise<void> {
  const report = await initBackend();
  console.error(describeBackend(report));
  const squid = structuredClone(presets[preset]);
  const model = createSquidModel(squid, Rng.fromSeed(0));
  const size = squid.model.imageSize;
  const ref = OFFICIAL_ELSEWHERE[preset as keyof typeof OFFICIAL_ELSEWHERE];
  const common = {
    bench: 'squid-model',
    config,
    backend: report.tfBackend,
    nativeKernels: report.nativeKernels.enabled,
    wasmThreads: report.wasmThreads?.threads ?? null,
    preset,
    op,
  };
  const emit = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ ...common, ...line })}\n`);

  if (op === 'infer' || op === 'profile-infer') {
    // What squid-eval and loadRun().score run (discriminate: logits and reconstruction errors),
    // given 1 image as the official test loop and 16 as squid-eval's default batch. loadRun marks
    // the weights constant (the oneDNN kernels convert them once); with those kernels an unmarked
    // twin of the model (same seed, same weights) times the per-call conversion alongside
    // ('batched-unmarked').
    const weights = (m: typeof model) =>
      [...m.generator.state(), ...m.discriminator.state()].map((e) => e.variable);
    markConstant(weights(model));
    const twin =
      report.nativeKernels.enabled && op === 'infer' ? createSquidModel(squid, Rng.fromSeed(0)) : null;
    for (const batch of op === 'infer' ? [1, 16] : [1]) {
      const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
      const score = () => {
        discriminate(model, x, 'per-image');
      };
      if (op === 'profile-infer') {
        score();
        for (const line of await kernelProfile(score)) emit({ batch, ...line });
      } else {
        // Batch 1 varies run to run (thread wake-ups between small kernels): median of 9.
        const modes: Record<string, () => void> = {
          batched: score,
          'per-image': () => {
            discriminate(model, x, 'per-image', { perImage: true });
          },
        };
        if (twin) {
          modes['batched-unmarked'] = () => {
            discriminate(twin, x, 'per-image');
          };
        }
        const times = timedAlternately(modes, quick ? 1 : batch === 1 ? 9 : 3);
        for (const [mode, t] of Object.entries(times)) {
          const msPerImage = t.ms / batch;
          emit({
            batch,
            mode,
            ms: round(t.ms),
            minMs: round(t.minMs),
            msPerImage: round(msPerImage),
            firstMs: Math.round(t.firstMs),
            imagesPerSec: round(1000 / msPerImage, 2),
            officialElsewhere: { msPerImage: ref.inferMsPerImage, note: ELSEWHERE_NOTE },
          });
        }
        const speedup = round(times['per-image'].ms / times.batched.ms, 2);
        process.stdout.write(
          `${JSON.stringify({ bench: 'squid-model', op: 'batched-speedup', config, preset, batch, baseline: 'per-image', speedup })}\n`,
        );
        if (twin) {
          const constant = round(times['batched-unmarked'].ms / times.batched.ms, 2);
          process.stdout.write(
            `${JSON.stringify({ bench: 'squid-model', op: 'constant-weights-speedup', config, preset, batch, baseline: 'batched-unmarked', speedup: constant })}\n`,
          );
        }
      }
      x.dispose();
    }
    twin?.dispose();
  } else {
    const batch = 16;
    squid.train.batchSize = batch;
    const trainer = new SquidTrainer(model, squid, Rng.fromSeed(1));
    const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const { nCritic } = squid.train;
    let iteration = 0;
    // One n_critic cycle: a G+D iteration, then D-only ones.
    const cycle = () => {
      for (let s = 0; s < nCritic; s++) trainer.step(x, s, iteration++);
    };
    if (op === 'profile-train') {
      cycle();
      for (const line of await kernelProfile(() => trainer.step(x, 0, iteration++))) emit({ batch, ...line });
    } else {
      // The first iterations run slower (wasm heap growth, primitive creation, page faults on
      // fresh buffers): 3 warm-up cycles, then the median of 4.
      const warmUp = quick ? 1 : 3;
      const cycles = quick ? 1 : 4;
      const gdTimes: number[] = [];
      const dTimes: number[] = [];
      let peak = 0;
      for (let r = 0; r < warmUp + cycles; r++) {
        for (let s = 0; s < nCritic; s++) {
          const t0 = performance.now();
          const m = measurePeakMemory(() => trainer.step(x, s, iteration++));
          const ms = performance.now() - t0;
          peak = Math.max(peak, m.peakBytes);
          if (r < warmUp) continue;
          (s === 0 ? gdTimes : dTimes).push(ms);
        }
      }
      const median = (v: number[]) => v.sort((a, b) => a - b)[Math.floor(v.length / 2)];
      const gd = median(gdTimes);
      const dOnly = nCritic > 1 ? median(dTimes) : 0;
      const ms = nCritic === 1 ? gd : (gd + dOnly * (nCritic - 1)) / nCritic;
      emit({
        batch,
        nCritic,
        ms: Math.round(ms),
        msGeneratorIteration: Math.round(gd),
        msDiscriminatorOnlyIteration: nCritic > 1 ? Math.round(dOnly) : undefined,
        imagesPerSec: round((batch / ms) * 1000, 2),
        officialElsewhere: { ms: ref.trainMsPerIteration, note: ELSEWHERE_NOTE },
        peakMB: Math.round(peak / 2 ** 20),
      });
    }
    trainer.dispose();
    x.dispose();
  }
  model.dispose();
}

/**
 * The official checkout and a python3 with torch to time it, or undefined (said on stderr in one
 * line) when --official is not given or something is missing.
 */
function findOfficial(dir: string | undefined): { dir: string; python: string; script: string } | undefined {
  if (dir === undefined) return undefined;
  if (!existsSync(join(dir, 'models', 'squid.py'))) {
    console.error(
      `official: ${dir} has no models/squid.py; get the official code with \`git clone https://github.com/tiangexiang/SQUID\` and pass that folder; measuring squid alone`,
    );
    return undefined;
  }
  const candidates = [process.env.SQUID_OFFICIAL_PYTHON, 'python3', '/usr/bin/python3'].filter(
    (p): p is string => !!p,
  );
  const python = candidates.find(
    (p) => spawnSync(p, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0,
  );
  if (!python) {
    console.error(
      `official: none of ${candidates.join(', ')} imports torch; \`apt-get install python3-torch libopenblas0-openmp\` (or set SQUID_OFFICIAL_PYTHON); measuring squid alone`,
    );
    return undefined;
  }
  const script = fileURLToPath(new URL('./official/time_official.py', import.meta.url));
  return { dir, python, script };
}

const child = flag('--child');
if (child) {
  const [config, preset, op] = child.split('|') as [string, PresetName, Op];
  await measure(config, preset, op);
} else {
  const self = fileURLToPath(import.meta.url);
  const pick = (name: string, all: string[]) => flag(name)?.split(',') ?? all;
  const presetNames = pick('--presets', ['digitanatomy', 'zhanglab']) as PresetName[];
  const configs = pick('--configs', Object.keys(CONFIGS));
  const official = findOfficial(flag('--official'));
  type Line = { config: string; preset: string; op: string; batch: number; mode?: string; ms?: number };
  const measured: Line[] = [];
  const write = (line: Record<string, unknown>) =>
    process.stdout.write(`${JSON.stringify({ bench: 'squid-model', ...line })}\n`);
  /** One squid measurement in its own process: its JSON lines, or [] after an error line. */
  const runSquid = (config: string, preset: PresetName, op: Op): Line[] => {
    const r = spawnSync(
      process.execPath,
      [...process.execArgv, self, '--child', `${config}|${preset}|${op}`, ...argv],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        env: { ...process.env, ...CONFIGS[config] },
        maxBuffer: 1 << 26,
      },
    );
    if (r.status === 0) {
      process.stdout.write(r.stdout);
      return r.stdout
        .split('\n')
        .filter(Boolean)
        .map((line) => JSON.parse(line));
    }
    const stderr = r.stderr ?? '';
    const error = /Aborted\(\)/.test(stderr)
      ? 'wasm heap exhausted (Aborted)'
      : (stderr.match(/^\w*Error: .*$/m)?.[0] ?? `exit code ${r.status}`);
    write({ config, preset, op, error });
    return [];
  };
  /** One measurement of the official code (time_official.py) on `threads` threads. */
  const runOfficial = (preset: PresetName, op: Op, threads: number): Line[] => {
    if (!official) return [];
    const config = `official×${threads}`;
    // As many warm-up and timed calls as squid's measurement (inference: 9 at both batches).
    const [warmup, reps] = quick ? [1, 1] : op === 'train' ? [3, 4] : [1, 9];
    const args = ['--official', official.dir, '--preset', preset, '--ops', op, '--threads', String(threads)];
    const r = spawnSync(
      official.python,
      [official.script, ...args, '--warmup', String(warmup), '--reps', String(reps)],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
        encoding: 'utf8',
        maxBuffer: 1 << 26,
      },
    );
    if (r.status !== 0) {
      const error = (r.stderr ?? '').trim().split('\n').pop() || `exit code ${r.status}`;
      write({ config, preset, op, error: `official code: ${error}` });
      return [];
    }
    const lines: Line[] = r.stdout
      .split('\n')
      .filter(Boolean)
      .map((line) => ({ config, ...JSON.parse(line) }));
    for (const line of lines) write(line);
    return lines;
  };
  /** Per batch (and mode) the mean of each side's two medians and their ratio official / squid. */
  const writeVsOfficial = (first: Line[], second: Line[], officialRuns: Line[][]) => {
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    for (const a of first) {
      if (a.ms === undefined) continue;
      const b = second.find((l) => l.batch === a.batch && l.mode === a.mode);
      const o = officialRuns.flatMap((run) => run.filter((l) => l.batch === a.batch && l.ms !== undefined));
      if (b?.ms === undefined || o.length !== 2) continue;
      const squidMs = mean([a.ms, b.ms]);
      const officialMs = mean(o.map((l) => l.ms as number));
      const ref = OFFICIAL_ELSEWHERE[a.preset as keyof typeof OFFICIAL_ELSEWHERE];
      write({
        op: 'vs-official',
        of: a.op,
        config: a.config,
        preset: a.preset,
        batch: a.batch,
        mode: a.mode,
        order: 'squid, official, official, squid',
        ms: round(squidMs),
        msPerImage: round(squidMs / a.batch, 2),
        squidRuns: [a.ms, b.ms],
        officialSameRun: {
          config: o[0].config,
          ms: round(officialMs),
          msPerImage: round(officialMs / a.batch, 2),
          runs: o.map((l) => l.ms),
          ratio: round(officialMs / squidMs, 2),
        },
        officialElsewhere:
          a.op === 'train'
            ? { ms: ref.trainMsPerIteration, note: ELSEWHERE_NOTE }
            : { msPerImage: ref.inferMsPerImage, note: ELSEWHERE_NOTE },
      });
    }
  };
  for (const config of configs) {
    const env = CONFIGS[config];
    if (!env) throw new Error(`unknown config ${config}; known: ${Object.keys(CONFIGS).join(', ')}`);
    for (const preset of presetNames) {
      const ops = pick('--ops', ['train', 'infer']) as Op[];
      if (argv.includes('--profile')) ops.push('profile-train', 'profile-infer');
      for (const op of ops) {
        if (!official || op.startsWith('profile')) {
          measured.push(...runSquid(config, preset, op));
          continue;
        }
        // squid, official, official, squid: a linear drift in load cancels out of both means.
        const threads = Number(env.SQUID_ONEDNN_THREADS ?? env.SQUID_THREADS);
        const squidFirst = runSquid(config, preset, op);
        const officialRuns = [runOfficial(preset, op, threads), runOfficial(preset, op, threads)];
        const squidSecond = runSquid(config, preset, op);
        measured.push(...squidFirst);
        writeVsOfficial(squidFirst, squidSecond, officialRuns);
      }
    }
  }
  // Same-run speed-ups against the first configuration (per preset, op and batch).
  for (const m of measured) {
    if (m.config === configs[0] || m.ms === undefined || m.op.startsWith('profile')) continue;
    const base = measured.find(
      (b) =>
        b.config === configs[0] &&
        b.preset === m.preset &&
        b.op === m.op &&
        b.batch === m.batch &&
        b.mode === m.mode,
    );
    if (base?.ms === undefined) continue;
    const line = {
      bench: 'squid-model',
      op: 'speedup',
      of: m.op,
      preset: m.preset,
      batch: m.batch,
      mode: m.mode,
    };
    process.stdout.write(
      `${JSON.stringify({ ...line, baseline: configs[0], config: m.config, speedup: round(base.ms / m.ms, 2) })}\n`,
    );
  }
}

// Model cost of the official presets on the active backend: eval forward time per image
// (generator + discriminator scoring, batch 4) and one training step (D step on a fresh
// generator forward, then G step: forward + backward of both networks, no optimizer).
// One JSON line per measurement:
// { bench, backend, preset, op, batch, ms, msPerImage, imagesPerSec, runs, firstMs } or, when
// the measurement dies (e.g. wasm heap exhausted), { bench, preset, op, batch, error }.
// `--quick`: batch 4 for the training step and one timed run. `--backend NAME` (default auto).
// `--batch N`: training batch (default 16; 4 on wasm: at batch 8 the step's heap passes ~2 GB
// and tfjs-backend-wasm 4.22 crashes, in malloc or with "memory access out of bounds").
// Each measurement runs in its own process, so such a crash becomes an error line.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { type BackendChoice, initBackend, Rng, stopGradient, tf } from '@squid-ad/backend';
import { bceWithLogits, mse } from '@squid-ad/gan-core';
import { createSquidModel, type PresetName, presets, type SquidModel } from '../src/index.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const at = argv.indexOf(name);
  return at >= 0 ? argv[at + 1] : undefined;
};
const quick = argv.includes('--quick');
const runs = quick ? 1 : 2;
const ops = ['eval-forward+score', 'train-step(G+D fwd+bwd)'] as const;
type Op = (typeof ops)[number];

/** First call (kernel setup, weight packing) separately, then the median of `runs` calls. */
function time(fn: () => void): { firstMs: number; ms: number } {
  let t = performance.now();
  fn();
  const firstMs = performance.now() - t;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    t = performance.now();
    fn();
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  return { firstMs, ms: times[Math.floor(times.length / 2)] };
}

function evalForward(model: SquidModel, x: tf.Tensor4D): void {
  tf.tidy(() => {
    const recon = model.generator.reconstruct(x);
    model.discriminator.forward(recon, { training: false, norm: 'per-image' }).dataSync();
  });
}

function trainingStep(model: SquidModel, x: tf.Tensor4D, rng: Rng): void {
  const { generator: g, discriminator: d, config } = model;
  const w = config.loss;
  const params = (m: { state(): { kind: string; variable: tf.Variable }[] }) =>
    m
      .state()
      .filter((e) => e.kind === 'parameter')
      .map((e) => e.variable);
  const fake = tf.tidy(() => stopGradient(g.forward(x, { training: true, rng }).recon));
  const dStep = tf.variableGrads(
    () =>
      tf.mul(
        tf.add(
          bceWithLogits(d.forward(x, { training: true }), 1),
          bceWithLogits(d.forward(fake, { training: true }), 0),
        ),
        w.d,
      ) as tf.Scalar,
    params(d),
  );
  const gStep = tf.variableGrads(() => {
    const out = g.forward(x, { training: true, rng });
    return tf.addN([
      tf.mul(mse(out.recon, x), w.recon),
      tf.mul(bceWithLogits(d.forward(out.recon, { training: true }), 1), w.g),
      tf.mul(mse(out.teacherRecon, x), w.teacher),
      tf.mul(out.distLoss, w.dist),
    ]) as tf.Scalar;
  }, params(g));
  gStep.value.dataSync();
  tf.dispose([fake, dStep.value, gStep.value, ...Object.values(dStep.grads), ...Object.values(gStep.grads)]);
}

/** One measurement in this process. */
async function measure(preset: PresetName, op: Op): Promise<void> {
  const report = await initBackend({ backend: (flag('--backend') ?? 'auto') as BackendChoice });
  const batch =
    op === 'eval-forward+score'
      ? 4
      : Number(flag('--batch') ?? (quick || report.tfBackend === 'wasm' ? 4 : 16));
  const model = createSquidModel(presets[preset], Rng.fromSeed(0));
  const size = model.config.model.imageSize;
  const x = tf.randomUniform([batch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const rng = Rng.fromSeed(1);
  const t = time(() => (op === 'eval-forward+score' ? evalForward(model, x) : trainingStep(model, x, rng)));
  process.stdout.write(
    `${JSON.stringify({
      bench: 'squid-model',
      backend: report.backend,
      nativeKernels: report.nativeKernels.enabled,
      preset,
      op,
      batch,
      ms: Math.round(t.ms),
      msPerImage: Math.round((t.ms / batch) * 10) / 10,
      imagesPerSec: Math.round((batch / t.ms) * 1000 * 100) / 100,
      runs,
      firstMs: Math.round(t.firstMs),
    })}\n`,
  );
  x.dispose();
  model.dispose();
}

const child = flag('--child');
if (child) {
  const [preset, op] = child.split('|') as [PresetName, Op];
  await measure(preset, op);
} else {
  const self = fileURLToPath(import.meta.url);
  for (const preset of ['digitanatomy', 'zhanglab'] as const) {
    for (const op of ops) {
      const r = spawnSync(
        process.execPath,
        [...process.execArgv, self, ...argv, '--child', `${preset}|${op}`],
        {
          stdio: ['ignore', 'pipe', 'pipe'],
          encoding: 'utf8',
          maxBuffer: 1 << 26,
        },
      );
      if (r.status === 0) {
        process.stdout.write(r.stdout);
      } else {
        const stderr = r.stderr ?? '';
        const error = /Aborted\(\)/.test(stderr)
          ? 'wasm heap exhausted (Aborted)'
          : (stderr.match(/^\w*Error: .*$/m)?.[0] ?? `exit code ${r.status}`);
        process.stdout.write(`${JSON.stringify({ bench: 'squid-model', preset, op, error })}\n`);
      }
    }
  }
}

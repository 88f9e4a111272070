// Model cost of the official presets on the active backend: eval forward time per image
// (generator + discriminator scoring, batch 4) and one training step at batch 16 (D step on a
// fresh generator forward, then G step: forward + backward of both networks, no optimizer).
// One JSON line per measurement:
// { bench, backend, preset, op, batch, ms, msPerImage, imagesPerSec, runs, firstMs }.
// `--quick`: batch 4 for the training step and one timed run. `--backend NAME` (default auto).
// `--batch N`: training batch (default 16; 8 on wasm, whose 4 GB heap cannot hold the batch-16
// digitanatomy step yet: ~2.3 GB of saved activations and memory-bank copies, then backprop).
import { type BackendChoice, initBackend, Rng, stopGradient, tf } from '@squid-ad/backend';
import { bceWithLogits, mse } from '@squid-ad/gan-core';
import { createSquidModel, presets, type SquidModel } from '../src/index.js';

const quick = process.argv.includes('--quick');
const at = process.argv.indexOf('--backend');
const report = await initBackend({ backend: (at >= 0 ? process.argv[at + 1] : 'auto') as BackendChoice });
const runs = quick ? 1 : 2;
const batchAt = process.argv.indexOf('--batch');
const trainBatch =
  batchAt >= 0 ? Number(process.argv[batchAt + 1]) : quick ? 4 : report.tfBackend === 'wasm' ? 8 : 16;

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
    const { recon } = model.generator.forward(x, { training: false });
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

for (const preset of ['digitanatomy', 'zhanglab'] as const) {
  const model = createSquidModel(presets[preset], Rng.fromSeed(0));
  const size = model.config.model.imageSize;
  const emit = (op: string, batch: number, t: { firstMs: number; ms: number }) =>
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
  const evalBatch = 4;
  const xe = tf.randomUniform([evalBatch, size, size, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  emit(
    'eval-forward+score',
    evalBatch,
    time(() => evalForward(model, xe)),
  );
  xe.dispose();
  const xt = tf.randomUniform([trainBatch, size, size, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const rng = Rng.fromSeed(1);
  emit(
    'train-step(G+D fwd+bwd)',
    trainBatch,
    time(() => trainingStep(model, xt, rng)),
  );
  xt.dispose();
  model.dispose();
}

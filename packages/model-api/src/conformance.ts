import { Rng, tf } from '@squid-ad/backend';
import type { ModelPlugin } from './model-plugin.js';

/** What {@link checkModelPlugin} found wrong; empty when the plug-in keeps the contract. */
export interface ConformanceReport {
  problems: string[];
  /** Loss names of the first step, and their values. */
  losses: Record<string, number>;
}

/** Deterministic images `[B, S, S, 1]` in [0, 1] for checks and tests. */
export function checkImages(batch: number, size: number, seed = 1): tf.Tensor4D {
  const rng = Rng.fromSeed(seed);
  const data = new Float32Array(batch * size * size);
  for (let i = 0; i < data.length; i++) data[i] = rng.next();
  return tf.tensor4d(data, [batch, size, size, 1]);
}

/**
 * Checks the contract of {@link ModelPlugin} on `config` (keep it small): state names unique and
 * stable across builds, the same seed gives the same weights, `infer` shapes, an image's outputs
 * independent of the rest of the batch (to 1e-5), `steps` training steps with finite losses that
 * change the weights, and no tensor left behind by infer or step.
 */
export function checkModelPlugin<C>(plugin: ModelPlugin<C>, config: C, steps = 2): ConformanceReport {
  const problems: string[] = [];
  const { imageSize: S, train } = plugin.recipe(config);
  const B = Math.min(train.batchSize, 4);
  const a = plugin.create(config, 3);
  const b = plugin.create(config, 3);
  const names = a.state().map((e) => e.name);
  if (new Set(names).size !== names.length) problems.push('state(): duplicate names');
  if (
    names.join() !==
    b
      .state()
      .map((e) => e.name)
      .join()
  )
    problems.push('state(): names differ between two builds');
  const differ = a.state().find((e, i) => {
    const other = b.state()[i]?.variable;
    return !other || tf.tidy(() => tf.any(tf.notEqual(e.variable, other)).dataSync()[0] === 1);
  });
  if (differ) problems.push(`create(config, 3) twice: ${differ.name} differs (initialisation is not seeded)`);
  b.dispose();

  const x = checkImages(B, S);
  const before = tf.memory().numTensors;
  const out = a.infer(x);
  if (out.recon.shape.join() !== [B, S, S, 1].join())
    problems.push(`infer: recon is [${out.recon.shape}], expected [${[B, S, S, 1]}]`);
  if (out.raw.shape.join() !== [B].join()) problems.push(`infer: raw is [${out.raw.shape}], expected [${B}]`);
  const raw = out.raw.dataSync();
  if (![...raw].every(Number.isFinite)) problems.push('infer: raw score not finite');
  out.recon.dispose();
  out.raw.dispose();
  if (tf.memory().numTensors !== before)
    problems.push(`infer leaks ${tf.memory().numTensors - before} tensors`);
  const first = tf.tidy(() => a.infer(x.slice([0, 0, 0, 0], [1, -1, -1, -1])).raw.dataSync()[0]);
  if (Math.abs(first - raw[0]) > 1e-5 * Math.max(1, Math.abs(raw[0])))
    problems.push(`infer: image 0 scores ${first} alone but ${raw[0]} in a batch of ${B}`);

  const trainer = a.createTrainer(Rng.fromSeed(5));
  trainer.setEpoch(0);
  const w0 = a
    .state()
    .filter((e) => e.kind === 'parameter')
    .map((e) => e.variable.dataSync().slice());
  let losses: Record<string, number> = {};
  const t0 = tf.memory().numTensors;
  for (let i = 0; i < steps; i++) {
    const l = trainer.step(x, { epoch: 0, stepInEpoch: i, iteration: i, totalIterations: steps });
    if (i === 0) losses = l;
    for (const [k, v] of Object.entries(l))
      if (!Number.isFinite(v)) problems.push(`step ${i}: loss ${k} = ${v}`);
  }
  if (tf.memory().numTensors !== t0) problems.push(`step leaks ${tf.memory().numTensors - t0} tensors`);
  const moved = a
    .state()
    .filter((e) => e.kind === 'parameter')
    .some((e, i) => {
      const now = e.variable.dataSync();
      return now.some((v, j) => v !== w0[i][j]);
    });
  if (!moved) problems.push(`${steps} training steps left every parameter unchanged`);
  const optNames = trainer.state().map((e) => e.name);
  if (new Set([...optNames, ...names]).size !== optNames.length + names.length)
    problems.push('trainer.state() names clash with each other or with the model state');
  trainer.dispose();
  a.dispose();
  x.dispose();
  return { problems, losses };
}

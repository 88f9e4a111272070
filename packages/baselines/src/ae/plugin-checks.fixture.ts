// Test helpers shared by the AE and VAE plug-in tests: exact resume and finite differences.
import { Rng, type StateEntry, tf } from '@squid-ad/backend';
import { checkImages, type ModelPlugin } from '@squid-ad/model-api';

/** Bit patterns of every state entry, by name. */
function snapshot(entries: StateEntry[]): Map<string, Uint32Array> {
  return new Map(
    entries.map((e) => {
      const data = e.variable.dataSync();
      const bits =
        data instanceof Float32Array ? new Uint32Array(data.slice().buffer) : Uint32Array.from(data);
      return [e.name, bits];
    }),
  );
}

/**
 * Trains `steps` iterations, copies model + trainer + Rng state into a model built from another
 * seed and a fresh trainer, and runs one more iteration on both. Returns both last losses and the
 * names of the state entries whose bits differ afterwards.
 */
export function resumeCheck<C>(
  plugin: ModelPlugin<C>,
  config: C,
  steps: number,
): {
  original: Record<string, number>;
  resumed: Record<string, number>;
  differing: string[];
  entries: number;
} {
  const { imageSize: S, train } = plugin.recipe(config);
  const B = train.batchSize;
  const batches = Array.from({ length: steps + 1 }, (_, i) => checkImages(B, S, 20 + i));
  const at = (i: number) => ({ epoch: 0, stepInEpoch: i, iteration: i, totalIterations: steps + 1 });
  const a = plugin.create(config, 1);
  const rngA = Rng.fromSeed(9);
  const trainerA = a.createTrainer(rngA);
  trainerA.setEpoch(0);
  for (let i = 0; i < steps; i++) trainerA.step(batches[i], at(i));

  const b = plugin.create(config, 2);
  const trainerB = b.createTrainer(Rng.fromState(rngA.getState()));
  trainerB.setEpoch(0);
  const from = new Map([...a.state(), ...trainerA.state()].map((e) => [e.name, e.variable]));
  for (const e of [...b.state(), ...trainerB.state()]) {
    const source = from.get(e.name);
    if (!source) throw new Error(`resumeCheck: ${e.name} is not in the original's state`);
    e.variable.assign(source);
  }
  const original = trainerA.step(batches[steps], at(steps));
  const resumed = trainerB.step(batches[steps], at(steps));
  const sa = snapshot([...a.state(), ...trainerA.state()]);
  const sb = snapshot([...b.state(), ...trainerB.state()]);
  const differing = [...sa]
    .filter(([name, bits]) => bits.some((v, i) => v !== sb.get(name)?.[i]))
    .map(([n]) => n);
  for (const t of [trainerA, trainerB, a, b]) t.dispose();
  tf.dispose(batches);
  return { original, resumed, differing, entries: sa.size };
}

/**
 * Analytic against central-difference gradients of `loss` for the `count` entries of `variable`
 * with the largest analytic gradient: `[analytic, numeric]` pairs. `value` evaluates the loss for
 * the differences (default: `loss` itself), e.g. summed in float64 to keep float32 noise out.
 */
export function finiteDifferences(
  loss: () => tf.Scalar,
  variable: tf.Variable,
  count: number,
  eps: number,
  value: () => number = () => tf.tidy(() => loss().dataSync()[0]),
): [number, number][] {
  const { grads } = tf.variableGrads(loss, [variable]);
  const g = grads[variable.name].dataSync().slice();
  tf.dispose(grads);
  const order = Array.from(g.keys()).sort((i, j) => Math.abs(g[j]) - Math.abs(g[i]));
  const original = variable.dataSync().slice();
  const at = (i: number, delta: number) => {
    const w = original.slice();
    w[i] += delta;
    tf.tidy(() => variable.assign(tf.tensor(w, variable.shape)));
    return value();
  };
  const pairs = order
    .slice(0, count)
    .map((i): [number, number] => [g[i], (at(i, eps) - at(i, -eps)) / (2 * eps)]);
  tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)));
  return pairs;
}

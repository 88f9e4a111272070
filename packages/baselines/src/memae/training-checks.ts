// Test helpers shared by the two MemAE plug-ins' tests (not exported from the package).
import { Rng, type StateEntry, tf } from '@squid-ad/backend';
import type { BaseModelConfig, ModelPlugin, StepPosition } from '@squid-ad/model-api';

const at = (iteration: number): StepPosition => ({
  epoch: 0,
  stepInEpoch: iteration,
  iteration,
  totalIterations: iteration + 1,
});

const sameBits = (a: StateEntry[], b: StateEntry[]): string[] =>
  a
    .filter((e, i) => {
      const x = e.variable.dataSync();
      const y = b[i].variable.dataSync();
      return x.length !== y.length || x.some((v, j) => !Object.is(v, y[j]));
    })
    .map((e) => e.name);

/**
 * Exact resume: train `k` steps; copy model, trainer and Rng state into a fresh model (built
 * from another seed) and trainer; one more step on each with the same batch. Returns both
 * steps' losses, the entries that differed before the copy, and those that differ after.
 */
export function resumeCheck<C extends BaseModelConfig>(
  plugin: ModelPlugin<C>,
  config: C,
  images: tf.Tensor4D,
  k = 2,
): {
  original: Record<string, number>;
  resumed: Record<string, number>;
  differedBeforeCopy: string[];
  differAfter: string[];
} {
  const a = plugin.create(config, 1);
  const rngA = Rng.fromSeed(11);
  const ta = a.createTrainer(rngA);
  ta.setEpoch(0);
  for (let i = 0; i < k; i++) ta.step(images, at(i));

  const b = plugin.create(config, 2);
  const differedBeforeCopy = sameBits(a.state(), b.state());
  const tb = b.createTrainer(Rng.fromState(rngA.getState()));
  for (const [from, to] of [
    [a.state(), b.state()],
    [ta.state(), tb.state()],
  ])
    from.forEach((e, i) => {
      if (to[i].name !== e.name) throw new Error(`state order differs: ${e.name} vs ${to[i].name}`);
      to[i].variable.assign(e.variable);
    });

  ta.setEpoch(1);
  tb.setEpoch(1);
  const original = ta.step(images, at(k));
  const resumed = tb.step(images, at(k));
  const differAfter = [...sameBits(a.state(), b.state()), ...sameBits(ta.state(), tb.state())];
  for (const d of [ta, tb, a, b]) d.dispose();
  return { original, resumed, differedBeforeCopy, differAfter };
}

/**
 * Central finite differences of `loss` w.r.t. entries of `variable` against its autodiff
 * gradient, at the `count` entries of largest analytic gradient (the clearest signal in float32)
 * whose ±eps steps leave `fingerprint` unchanged: hard shrinkage jumps where a weight crosses λ,
 * and a difference across such a jump measures the jump, not the gradient.
 */
export function gradientCheck(
  loss: () => tf.Scalar,
  variable: tf.Variable,
  eps: number,
  fingerprint: () => string,
  count = 3,
): { index: number; analytic: number; numeric: number }[] {
  const grad = tf.tidy(() => {
    const { value, grads } = tf.variableGrads(loss, [variable]);
    value.dispose();
    return grads[variable.name];
  });
  const g = grad.dataSync().slice();
  grad.dispose();
  const order = [...g.keys()].sort((i, j) => Math.abs(g[j]) - Math.abs(g[i]));
  const original = variable.dataSync().slice();
  const base = fingerprint();
  const evaluate = (index: number, value: number): { loss: number; same: boolean } => {
    const data = original.slice();
    data[index] = value;
    tf.tidy(() => variable.assign(tf.tensor(data, variable.shape)));
    return { loss: tf.tidy(() => loss().dataSync()[0]), same: fingerprint() === base };
  };
  const out: { index: number; analytic: number; numeric: number }[] = [];
  for (const index of order) {
    if (out.length === count) break;
    // The perturbed weights as float32 holds them: the step actually taken.
    const hi = Math.fround(original[index] + eps);
    const lo = Math.fround(original[index] - eps);
    const up = evaluate(index, hi);
    const down = evaluate(index, lo);
    if (up.same && down.same)
      out.push({ index, analytic: g[index], numeric: (up.loss - down.loss) / (hi - lo) });
  }
  tf.tidy(() => variable.assign(tf.tensor(original, variable.shape)));
  return out;
}

import { prefixState, type Stateful, tf } from '@squid-ad/backend';
import { Adam, type AdamOptions } from '@squid-ad/gan-core';
import { checkFinite, type ModelTrainer } from '@squid-ad/model-api';

/** The loss of one batch: the objective to minimise and the terms to report (both scalars). */
export interface BatchLoss {
  objective: tf.Scalar;
  /** Reported by name (may include the objective itself). */
  terms: Record<string, tf.Scalar>;
}

export interface AdamTrainerOptions {
  /** Its `parameter` entries are trained, named by their state names. */
  model: Stateful;
  adam: AdamOptions;
  /** Learning rate of a 0-based epoch. */
  lrAt(epoch: number): number;
  /** The loss of a batch `[B, S, S, 1]` in [0, 1], in train mode (called under the gradient tape). */
  loss(images: tf.Tensor4D): BatchLoss;
}

/**
 * A one-optimiser trainer: each step is one Adam update on the gradient of `loss` w.r.t. every
 * parameter of `model`, as `opt.zero_grad(); loss.backward(); opt.step()`: the training iteration
 * of the single-network baselines (AE, VAE, both MemAEs). A non-finite term throws
 * (NonFiniteLossError) before the update. A loss that draws noise (the VAE's ε) takes it from the
 * run's Rng itself.
 * Optimiser state is named `optimizer.exp_avg.<param>`, `optimizer.exp_avg_sq.<param>`, `optimizer.step`.
 */
export function adamTrainer(o: AdamTrainerOptions): ModelTrainer {
  const params = o.model.state().filter((e) => e.kind === 'parameter');
  const adam = new Adam(
    params.map((e) => ({ name: e.name, variable: e.variable })),
    o.adam,
  );
  const variables = params.map((e) => e.variable);
  // Milliseconds so far per phase: the loss's forward pass, its backward pass, the Adam update.
  const timings = { forward: 0, backward: 0, optimizer: 0 };
  return {
    timings,
    state: () => prefixState('optimizer', adam.state()),
    setEpoch(epoch) {
      adam.lr = o.lrAt(epoch);
      return { lr: adam.lr };
    },
    step(images, at) {
      let terms: Record<string, tf.Scalar> = {};
      const t0 = performance.now();
      let t1 = t0;
      const { value, grads } = tf.variableGrads(() => {
        const l = o.loss(images);
        terms = l.terms;
        for (const t of Object.values(terms)) tf.keep(t);
        t1 = performance.now();
        return l.objective;
      }, variables);
      timings.forward += t1 - t0;
      const losses: Record<string, number> = {};
      for (const [k, t] of Object.entries(terms)) losses[k] = t.dataSync()[0];
      tf.dispose([value, ...Object.values(terms)]);
      const t2 = performance.now();
      timings.backward += t2 - t1;
      try {
        checkFinite(losses, at.iteration);
        adam.update(grads);
      } finally {
        tf.dispose(grads);
      }
      timings.optimizer += performance.now() - t2;
      return losses;
    },
    dispose: () => adam.dispose(),
  };
}

import { prefixState, type StateEntry, tf } from '@squid-ad/backend';
import { Adam } from '@squid-ad/gan-core';
import { checkFinite, type ModelTrainer, type StepPosition } from '@squid-ad/model-api';
import type { DcganAdamConfig } from './config.js';

/** A training loss and the terms logged beside it, from one forward on a batch. */
export interface LossTerms {
  /** What is minimised. */
  total: tf.Scalar;
  /** Logged by name (the total included, under the name the model gives it). */
  terms: Record<string, tf.Scalar>;
}

/**
 * One Adam over every parameter of a model and a loss of the batch: the training iteration of
 * the single-network baselines (AE, VAE). The loss function draws its noise from the run's Rng
 * itself; the optimiser state is saved under `optimizer.` (the model's names never start so).
 */
export class AdamTrainer implements ModelTrainer {
  readonly adam: Adam;
  /** Milliseconds so far per phase: the loss's forward pass, its backward pass, the Adam update. */
  readonly timings = { forward: 0, backward: 0, optimizer: 0 };
  private readonly variables: tf.Variable[];

  constructor(
    params: StateEntry[],
    options: DcganAdamConfig,
    private readonly lossOf: (images: tf.Tensor4D) => LossTerms,
  ) {
    const trained = params.filter((e) => e.kind === 'parameter');
    this.adam = new Adam(
      trained.map((e) => ({ name: e.name, variable: e.variable })),
      { lr: options.lr, betas: options.betas, eps: options.eps, weightDecay: options.weightDecay },
    );
    this.variables = trained.map((e) => e.variable);
  }

  state(): StateEntry[] {
    return prefixState('optimizer', this.adam.state());
  }

  /** The learning rate is constant (GANomaly has no schedule). */
  setEpoch(): Record<string, number> {
    return { lr: this.adam.lr };
  }

  /** One Adam step on the loss of `images`; nothing is applied when a term is not finite. */
  step(images: tf.Tensor4D, at: StepPosition): Record<string, number> {
    let kept: [string, tf.Scalar][] = [];
    const t0 = performance.now();
    let t1 = t0;
    const { value, grads } = tf.variableGrads(() => {
      const { total, terms } = this.lossOf(images);
      kept = Object.entries(terms).map(([name, t]) => [name, tf.keep(t)]);
      t1 = performance.now();
      return total;
    }, this.variables);
    this.timings.forward += t1 - t0;
    const losses = Object.fromEntries(kept.map(([name, t]) => [name, t.dataSync()[0]]));
    tf.dispose([value, ...kept.map(([, t]) => t)]);
    const t2 = performance.now();
    this.timings.backward += t2 - t1;
    try {
      checkFinite(losses, at.iteration);
    } catch (err) {
      tf.dispose(grads);
      throw err;
    }
    this.adam.update(grads);
    tf.dispose(grads);
    this.timings.optimizer += performance.now() - t2;
    return losses;
  }

  dispose(): void {
    this.adam.dispose();
  }
}

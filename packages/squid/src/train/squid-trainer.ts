import { prefixState, type Rng, type StateEntry, type Stateful, stopGradient, tf } from '@squid-ad/backend';
import { Adam, bceWithLogits, cosineLr, mse } from '@squid-ad/gan-core';
import { NonFiniteLossError } from '@squid-ad/model-api';
import type { SquidConfig } from '../config.js';
import type { SquidModel } from '../model.js';

/** Loss values of one iteration (generator terms only on generator steps). */
export interface StepLosses {
  d: number;
  g?: number;
  recon?: number;
  teacher?: number;
  dist?: number;
  adv?: number;
}

/** Milliseconds spent per phase of the iterations timed so far. */
export interface StepTimings {
  data: number;
  forward: number;
  backward: number;
  optimizer: number;
  queue: number;
}

export const emptyTimings = (): StepTimings => ({ data: 0, forward: 0, backward: 0, optimizer: 0, queue: 0 });

const now = () => performance.now();

/**
 * The official SQUID training iteration (reference §4) with the two Adam optimizers and the
 * generator's per-epoch cosine learning rate. Owns the optimizers; the model and the Rng are borrowed.
 *
 * Generator-forward reuse (`reuseGeneratorForward`, default on). The official loop runs the
 * generator twice on a generator iteration: once for the discriminator step (recon detached)
 * and once more for the generator step. Both forwards use the same generator weights (the
 * discriminator step does not touch them) and the same input, so the two reconstructions are
 * two draws of the same random function (they differ only in the Bernoulli masks). We compute
 * one forward under the generator's gradient tape, run the discriminator step on its detached
 * reconstruction (a nested tape: no gradient reaches the generator from it), update the
 * discriminator, and only then evaluate `D(recon)` for the generator loss, so the generator is
 * still trained against the updated discriminator, as officially. What changes: the
 * discriminator and the generator see the same mask draw instead of two independent ones. The
 * generator's BatchNorm running statistics still get the official two updates per iteration,
 * both from this forward's batch statistics (the official two forwards see the same batch and
 * weights, so their statistics differ only after the first mask; with one update the eval-mode
 * statistics would lag twice as far behind the weights). The expected updates are the same; the
 * numbers are not bit-identical to the two-forward schedule, which `reuseGeneratorForward: false`
 * reproduces.
 * On discriminator-only iterations (`n_critic > 1`) there is nothing to reuse.
 */
export class SquidTrainer implements Stateful {
  readonly optG: Adam;
  readonly optD: Adam;
  readonly timings: StepTimings = emptyTimings();
  private readonly gParams: tf.Variable[];
  private readonly dParams: tf.Variable[];

  constructor(
    readonly model: SquidModel,
    readonly config: SquidConfig,
    private readonly rng: Rng,
    readonly reuseGeneratorForward = true,
  ) {
    const params = (entries: StateEntry[]) => entries.filter((e) => e.kind === 'parameter');
    const g = params(model.generator.state());
    const d = params(model.discriminator.state());
    const og = config.optimizer.g;
    const od = config.optimizer.d;
    this.optG = new Adam(
      g.map((e) => ({ name: e.name, variable: e.variable })),
      { lr: og.lr, betas: og.betas as [number, number], eps: og.eps, weightDecay: og.weightDecay },
    );
    this.optD = new Adam(
      d.map((e) => ({ name: e.name, variable: e.variable })),
      { lr: od.lr, betas: od.betas as [number, number], eps: od.eps, weightDecay: od.weightDecay },
    );
    this.gParams = g.map((e) => e.variable);
    this.dParams = d.map((e) => e.variable);
  }

  /**
   * Sets the learning rates for epoch `epoch` (0-based): the generator's follows PyTorch
   * CosineAnnealingLR stepped once per epoch; the official code never schedules the discriminator.
   */
  setEpoch(epoch: number): { lrG: number; lrD: number } {
    const { tMax, minLrFactor } = this.config.schedule;
    this.optG.lr = cosineLr(this.config.optimizer.g.lr, epoch, tMax, minLrFactor);
    return { lrG: this.optG.lr, lrD: this.optD.lr };
  }

  /**
   * One iteration on `x` `[B, S, S, 1]`: a discriminator step, and a generator step followed by
   * the memory-queue update when `stepInEpoch % n_critic == 0` (the official `i % n_critic`).
   */
  step(x: tf.Tensor4D, stepInEpoch: number, iteration: number): StepLosses {
    const generatorStep = stepInEpoch % this.config.train.nCritic === 0;
    const { generator } = this.model;
    const t = this.timings;
    if (!generatorStep || !this.reuseGeneratorForward) {
      const t0 = now();
      const recon = tf.tidy(() => generator.forwardParts(x, { training: true, rng: this.rng }).recon);
      t.forward += now() - t0;
      let d: number;
      try {
        d = this.discriminatorStep(x, recon, iteration);
      } finally {
        recon.dispose();
      }
      if (!generatorStep) return { d };
      const losses = this.generatorStep(x, iteration, undefined);
      return { d, ...losses };
    }
    const holder: { d?: number } = {};
    return { ...this.generatorStep(x, iteration, holder), d: holder.d! };
  }

  /** D step on real `x` and a reconstruction (detached); returns L_D. */
  private discriminatorStep(x: tf.Tensor4D, recon: tf.Tensor4D, iteration: number): number {
    const { discriminator } = this.model;
    const w = this.config.loss.d;
    const t = this.timings;
    const t0 = now();
    let tf1 = 0;
    const { value, grads } = tf.variableGrads(() => {
      const real = discriminator.forward(x, { training: true });
      const fake = discriminator.forward(stopGradient(recon), { training: true });
      const loss = tf.mul(tf.add(bceWithLogits(real, 1), bceWithLogits(fake, 0)), w) as tf.Scalar;
      tf1 = now();
      return loss;
    }, this.dParams);
    t.forward += tf1 - t0;
    t.backward += now() - tf1;
    const d = value.dataSync()[0];
    value.dispose();
    if (!Number.isFinite(d)) {
      tf.dispose(grads);
      throw new NonFiniteLossError('discriminator', d, iteration);
    }
    const t2 = now();
    this.optD.update(grads);
    tf.dispose(grads);
    t.optimizer += now() - t2;
    return d;
  }

  /**
   * G step: `L_G = recon·MSE(recon, x) + g·BCE(D(recon), 1) + teacher·MSE(teacher, x) + dist·L_dist`,
   * Adam, then the queue update. With `holder`, the discriminator step runs inside on the same forward.
   */
  private generatorStep(
    x: tf.Tensor4D,
    iteration: number,
    holder: { d?: number } | undefined,
  ): Omit<StepLosses, 'd'> {
    const { generator, discriminator } = this.model;
    const w = this.config.loss;
    const t = this.timings;
    const terms: tf.Scalar[] = [];
    let t0 = now();
    let tForwardEnd = 0;
    let dError: unknown;
    const { value, grads } = tf.variableGrads(() => {
      const out = generator.forwardParts(x, { training: true, rng: this.rng, normUpdates: holder ? 2 : 1 });
      t.forward += now() - t0;
      if (holder) {
        try {
          holder.d = this.discriminatorStep(x, out.recon, iteration);
        } catch (err) {
          // Thrown inside the tape it would leak the tape; rethrown below.
          dError = err;
        }
      }
      const t1 = now();
      const recon = mse(out.recon, x);
      const adv = bceWithLogits(discriminator.forward(out.recon, { training: true }), 1);
      // Without a teacher (ablation.teacher false) its two terms do not exist.
      const teacher = out.teacherRecon ? mse(out.teacherRecon, x) : undefined;
      const named = teacher && out.distLoss ? [recon, adv, teacher, out.distLoss] : [recon, adv];
      terms.push(...named.map((s) => tf.keep(s)));
      const weights = [w.recon, w.g, w.teacher, w.dist];
      const loss = tf.addN(named.map((s, i) => tf.mul(s, weights[i]))) as tf.Scalar;
      tForwardEnd = now();
      t.forward += tForwardEnd - t1;
      return loss;
    }, this.gParams);
    t.backward += now() - tForwardEnd;
    const g = value.dataSync()[0];
    const [recon, adv, teacher, dist] = terms.map((s) => s.dataSync()[0]);
    tf.dispose([value, ...terms]);
    if (dError) {
      tf.dispose(grads);
      throw dError;
    }
    if (!Number.isFinite(g)) {
      tf.dispose(grads);
      throw new NonFiniteLossError('generator', g, iteration);
    }
    t0 = now();
    this.optG.update(grads);
    tf.dispose(grads);
    t.optimizer += now() - t0;
    t0 = now();
    generator.updateMemory();
    t.queue += now() - t0;
    return teacher === undefined ? { g, recon, adv } : { g, recon, adv, teacher, dist };
  }

  /** Optimizer state for checkpoints: `optimizer.g.*`, `optimizer.d.*`. */
  state(): StateEntry[] {
    return [
      ...prefixState('optimizer.g', this.optG.state()),
      ...prefixState('optimizer.d', this.optD.state()),
    ];
  }

  dispose(): void {
    this.optG.dispose();
    this.optD.dispose();
  }
}

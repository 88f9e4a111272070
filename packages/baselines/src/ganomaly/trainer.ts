import { prefixState, type Rng, type StateEntry, tf } from '@squid-ad/backend';
import { Adam } from '@squid-ad/gan-core';
import { checkFinite, type ModelTrainer, type StepPosition } from '@squid-ad/model-api';
import type { GanomalyConfig } from './config.js';
import { contextualLoss, discriminatorLoss, encoderLoss, featureMatchingLoss } from './losses.js';
import type { GanomalyModel } from './model.js';
import type { GanomalyDiscriminator, GanomalyGenerator } from './networks.js';

/** The generator's loss terms on a batch, and x̂ (training mode: batch statistics, running ones updated). */
export interface GeneratorLosses {
  total: tf.Scalar;
  adv: tf.Scalar;
  con: tf.Scalar;
  enc: tf.Scalar;
  fake: tf.Tensor4D;
}

/**
 * L_G = w_adv·L_adv + w_con·L_con + w_enc·L_enc on `x` (model units, padded), as lib/model.py
 * `forward_g` + `backward_g`: G forward, then D's features of x and of x̂ with the current D.
 */
export function generatorLosses(
  generator: GanomalyGenerator,
  discriminator: GanomalyDiscriminator,
  x: tf.Tensor4D,
  w: GanomalyConfig['loss'],
): GeneratorLosses {
  const { fake, latentI, latentO } = generator.apply(x, { training: true });
  const adv = featureMatchingLoss(
    discriminator.features(x, { training: true }),
    discriminator.features(fake, { training: true }),
  );
  const con = contextualLoss(x, fake);
  const enc = encoderLoss(latentI, latentO);
  const total = tf.addN([tf.mul(adv, w.wAdv), tf.mul(con, w.wCon), tf.mul(enc, w.wEnc)]) as tf.Scalar;
  return { total, adv, con, enc, fake };
}

/** L_D on `x` and a (detached) x̂, training mode: lib/model.py `forward_d` + `backward_d`. */
export function discriminatorStepLoss(
  discriminator: GanomalyDiscriminator,
  x: tf.Tensor4D,
  fake: tf.Tensor4D,
): tf.Scalar {
  const real = discriminator.logits(discriminator.features(x, { training: true }));
  const generated = discriminator.logits(discriminator.features(fake, { training: true }));
  return discriminatorLoss(real, generated);
}

/**
 * GANomaly's training iteration (lib/model.py `optimize_params`): forward G; update G with L_G;
 * update D with L_D on x and the detached x̂ of that same forward; re-initialise D (weights_init,
 * from the run's Rng; Adam state kept) when L_D < 1e-5. Both gradients are taken before either
 * update (the G update does not touch D or the x̂ D sees, so this equals the official order) so
 * that a non-finite loss stops the step before any weight moves. D's BatchNorm running statistics
 * are updated four times per iteration (real, fake, real, fake) as the official four D forwards do.
 */
export class GanomalyTrainer implements ModelTrainer {
  private readonly optG: Adam;
  private readonly optD: Adam;
  private readonly gVars: tf.Variable[];
  private readonly dVars: tf.Variable[];
  private readonly times = { generator: 0, discriminator: 0, update: 0 };

  constructor(
    private readonly model: GanomalyModel,
    private readonly rng: Rng,
  ) {
    const { lr, betas, eps } = model.config.optimizer;
    const params = (entries: StateEntry[]) =>
      entries.filter((e) => e.kind === 'parameter').map((e) => ({ name: e.name, variable: e.variable }));
    const g = params(model.generator.state());
    const d = params(model.discriminator.state());
    this.optG = new Adam(g, { lr, betas, eps });
    this.optD = new Adam(d, { lr, betas, eps });
    this.gVars = g.map((p) => p.variable);
    this.dVars = d.map((p) => p.variable);
  }

  get timings(): Readonly<Record<string, number>> {
    return this.times;
  }

  /** Optimiser state: `optimizer_g.…` and `optimizer_d.…` (Adam moments and step counts). */
  state(): StateEntry[] {
    return [
      ...prefixState('optimizer_g', this.optG.state()),
      ...prefixState('optimizer_d', this.optD.state()),
    ];
  }

  /** No schedule in the official code: the learning rate of every epoch is `lr`. */
  setEpoch(_epoch: number): Record<string, number> {
    return { g: this.optG.lr, d: this.optD.lr };
  }

  step(images: tf.Tensor4D, at: StepPosition): Record<string, number> {
    const { generator, discriminator, config } = this.model;
    const x = this.model.input(images);
    let t = performance.now();
    let fake: tf.Tensor4D | undefined;
    let terms: tf.Scalar[] = [];
    const gStep = tf.variableGrads(() => {
      const l = generatorLosses(generator, discriminator, x, config.loss);
      fake = tf.keep(l.fake);
      terms = [l.adv, l.con, l.enc].map((s) => tf.keep(s));
      return l.total;
    }, this.gVars);
    const [adv, con, enc] = terms.map((s) => s.dataSync()[0]);
    const g = gStep.value.dataSync()[0];
    this.times.generator += performance.now() - t;
    t = performance.now();
    const detached = fake as unknown as tf.Tensor4D;
    const dStep = tf.variableGrads(() => discriminatorStepLoss(discriminator, x, detached), this.dVars);
    const d = dStep.value.dataSync()[0];
    this.times.discriminator += performance.now() - t;
    tf.dispose([x, detached, ...terms, gStep.value, dStep.value]);
    const dReset = d < config.loss.dResetBelow ? 1 : 0;
    const losses = { g, adv, con, enc, d, d_reset: dReset };
    try {
      checkFinite(losses, at.iteration);
      t = performance.now();
      this.optG.update(gStep.grads);
      this.optD.update(dStep.grads);
    } finally {
      tf.dispose(gStep.grads);
      tf.dispose(dStep.grads);
    }
    if (dReset) discriminator.reset(this.rng);
    this.times.update += performance.now() - t;
    return losses;
  }

  dispose(): void {
    this.optG.dispose();
    this.optD.dispose();
  }
}

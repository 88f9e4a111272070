import { type Rng, type StateEntry, tf } from '@squid-ad/backend';
import { Adam, RMSprop } from '@squid-ad/gan-core';
import { checkFinite, type ModelTrainer, type StepPosition } from '@squid-ad/model-api';
import { ganIterations } from './config.js';
import { criticLoss } from './critic-loss.js';
import type { FAnoGanModel } from './model.js';
import type { NormMode } from './residual-block.js';
import { encoderLoss, generatorLoss } from './stage-losses.js';

/** G in stage 1: batch statistics; the moving ones move only with a generator update (TF UPDATE_OPS). */
const G_FOR_CRITIC: NormMode = { stats: 'batch', update: false };
const G_FOR_UPDATE: NormMode = { stats: 'batch', update: true };
/** E in stage 2: batch statistics, moving ones updated every step. */
const E_TRAIN: NormMode = { stats: 'batch', update: true };

const params = (entries: StateEntry[]) =>
  entries.filter((e) => e.kind === 'parameter').map((e) => ({ name: e.name, variable: e.variable }));

const prefixed = (prefix: string, entries: StateEntry[]): StateEntry[] =>
  entries.map((e) => ({ ...e, name: `${prefix}.${e.name}` }));

/**
 * f-AnoGAN's two training stages in one run; the stage is a function of the iteration alone
 * (the first `ganFraction` of the run's iterations are stage 1), so a resume lands in the
 * right one.
 *
 * Stage 1, WGAN-GP (wgangp_64x64.py): the official loop counts critic updates and, before each
 * run of `criticIters` of them except the first, updates G once. One call of {@link step} is
 * one critic update on its batch (each critic update took a new batch officially too), preceded
 * by a generator update when the stage-1 iteration c is a positive multiple of `criticIters`:
 * calls 0–4 critic only, call 5 G then critic, … Losses: `d` (critic loss), `wd` (mean D(x) −
 * mean D(G(z))), `gp` (the penalty), and `g` (−mean D(G(z))) in the calls that update G.
 *
 * Stage 2, izi_f (z_encoding_izif.py): G and D frozen, G with moving statistics, E trained by
 * RMSProp on L = MSE(x, G(E(x))) + κ·MSE(f(x), f(G(E(x)))). Losses: `e`, `e_img`, `e_fts`.
 *
 * Randomness: z ~ N(0, I) and the interpolation α ~ U(0, 1) per sample come from `rng`.
 */
export class FAnoGanTrainer implements ModelTrainer {
  private readonly adamG: Adam;
  private readonly adamD: Adam;
  private readonly rmsE: RMSprop;

  constructor(
    private readonly model: FAnoGanModel,
    private readonly rng: Rng,
  ) {
    const c = model.config;
    const adam = { lr: c.ganLr, betas: c.ganBetas as [number, number], eps: c.ganEps, weightDecay: 0 };
    this.adamG = new Adam(params(model.generator.state()), adam);
    this.adamD = new Adam(params(model.critic.state()), adam);
    this.rmsE = new RMSprop(params(model.encoder.state()), {
      lr: c.encoderLr,
      decay: c.encoderDecay,
      momentum: c.encoderMomentum,
      epsilon: c.encoderEps,
    });
  }

  /** Adam moments of G (`optim_g.`) and D (`optim_d.`), RMSProp slots of E (`optim_e.`). */
  state(): StateEntry[] {
    return [
      ...prefixed('optim_g', this.adamG.state()),
      ...prefixed('optim_d', this.adamD.state()),
      ...prefixed('optim_e', this.rmsE.state()),
    ];
  }

  /** No schedule officially: constant rates. */
  setEpoch(_epoch: number): Record<string, number> {
    return { g: this.adamG.lr, d: this.adamD.lr, e: this.rmsE.lr };
  }

  step(images: tf.Tensor4D, at: StepPosition): Record<string, number> {
    const c = this.model.config;
    const stage1 = ganIterations(at.totalIterations, c.ganFraction);
    const x = this.model.toNet(images);
    try {
      if (at.iteration >= stage1) return this.encoderStep(x, at.iteration);
      const losses: Record<string, number> = {};
      if (at.iteration > 0 && at.iteration % c.criticIters === 0)
        losses.g = this.generatorUpdate(x.shape[0], at.iteration);
      return { ...losses, ...this.criticUpdate(x, at.iteration) };
    } finally {
      x.dispose();
    }
  }

  /** `[n, zDim]` standard normal draws from the Rng. */
  private noise(n: number): tf.Tensor2D {
    const z = this.model.config.zDim;
    const data = new Float32Array(n * z);
    for (let i = 0; i < data.length; i++) data[i] = this.rng.normal();
    return tf.tensor2d(data, [n, z]);
  }

  private generatorUpdate(batch: number, iteration: number): number {
    const { generator, critic } = this.model;
    const z = this.noise(batch);
    const { value, grads } = tf.variableGrads(
      () => generatorLoss(generator, critic, z, G_FOR_UPDATE),
      this.trainable(generator.state()),
    );
    const g = value.dataSync()[0];
    try {
      checkFinite({ g }, iteration);
      this.adamG.update(grads);
    } finally {
      tf.dispose([value, z, ...Object.values(grads)]);
    }
    return g;
  }

  private criticUpdate(x: tf.Tensor4D, iteration: number): Record<string, number> {
    const { generator, critic, config } = this.model;
    const n = x.shape[0];
    const z = this.noise(n);
    const alpha = tf.tensor1d(Float32Array.from({ length: n }, () => this.rng.next()));
    const fake = generator.apply(z, G_FOR_CRITIC);
    let wd: tf.Tensor | undefined;
    let gp: tf.Tensor | undefined;
    const vars = this.trainable(critic.state());
    const { value, grads } = tf.variableGrads(() => {
      const t = criticLoss((v) => critic.apply(v), x, fake, alpha, config.gpWeight);
      wd = tf.keep(t.wasserstein);
      gp = tf.keep(t.penalty);
      return t.loss;
    }, vars);
    const losses = { d: value.dataSync()[0], wd: wd!.dataSync()[0], gp: gp!.dataSync()[0] };
    try {
      checkFinite(losses, iteration);
      this.adamD.update(grads);
    } finally {
      tf.dispose([value, z, alpha, fake, wd!, gp!, ...Object.values(grads)]);
    }
    return losses;
  }

  private encoderStep(x: tf.Tensor4D, iteration: number): Record<string, number> {
    const { critic, encoder, config } = this.model;
    const fReal = critic.features(x);
    let img: tf.Tensor | undefined;
    let fts: tf.Tensor | undefined;
    const { value, grads } = tf.variableGrads(() => {
      const t = encoderLoss(this.model, x, fReal, config.kappa, E_TRAIN);
      img = tf.keep(t.img);
      fts = tf.keep(t.fts);
      return t.loss;
    }, this.trainable(encoder.state()));
    const losses = { e: value.dataSync()[0], e_img: img!.dataSync()[0], e_fts: fts!.dataSync()[0] };
    try {
      checkFinite(losses, iteration);
      this.rmsE.update(grads);
    } finally {
      tf.dispose([value, fReal, img!, fts!, ...Object.values(grads)]);
    }
    return losses;
  }

  private trainable(entries: StateEntry[]): tf.Variable[] {
    return entries.filter((e) => e.kind === 'parameter').map((e) => e.variable);
  }

  dispose(): void {
    this.adamG.dispose();
    this.adamD.dispose();
    this.rmsE.dispose();
  }
}

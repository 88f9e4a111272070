import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type GanomalyConfig, ganomalyPresetConfig } from './config.js';
import { GanomalyModel } from './model.js';
import { discriminatorStepLoss, generatorLosses } from './trainer.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** A small GANomaly on 16 px images (no padding): D has one BatchNorm, G's encoders one each. */
function small(over: Partial<GanomalyConfig> = {}): GanomalyConfig {
  return { ...ganomalyPresetConfig('tiny'), imageSize: 16, network: { nz: 3, ngf: 2 }, ...over };
}

const at = (i: number) => ({ epoch: 0, stepInEpoch: i, iteration: i, totalIterations: 10 });
const params = (m: GanomalyModel) => m.state().filter((e) => e.kind === 'parameter');

describe('GanomalyTrainer', () => {
  it('returns L_adv, L_con, L_enc, L_G and L_D equal to plain loops over the same forward', () => {
    const config = small();
    const a = new GanomalyModel(config, 2);
    const b = new GanomalyModel(config, 2);
    const images = checkImages(3, 16, 4);
    // the independent side: the networks' outputs read out, every loss written as a loop
    const x = a.input(images);
    const { fake, latentI, latentO } = a.generator.apply(x, { training: true });
    const fr = a.discriminator.features(x, { training: true });
    const ff = a.discriminator.features(fake, { training: true });
    const lr = a.discriminator.logits(fr).dataSync();
    const lf = a.discriminator.logits(ff).dataSync();
    const meanOf = (n: number, f: (i: number) => number) => {
      let s = 0;
      for (let i = 0; i < n; i++) s += f(i);
      return s / n;
    };
    const [xv, fv, zi, zo, frv, ffv] = [x, fake, latentI, latentO, fr, ff].map((t) => t.dataSync());
    const adv = meanOf(frv.length, (i) => (frv[i] - ffv[i]) ** 2);
    const con = meanOf(xv.length, (i) => Math.abs(xv[i] - fv[i]));
    const enc = meanOf(zi.length, (i) => (zi[i] - zo[i]) ** 2);
    const sig = (v: number) => 1 / (1 + Math.exp(-v));
    const d = 0.5 * (meanOf(3, (i) => -Math.log(sig(lr[i]))) + meanOf(3, (i) => -Math.log(1 - sig(lf[i]))));
    const trainer = b.createTrainer(Rng.fromSeed(0));
    const got = trainer.step(images, at(0));
    expect(got.adv).toBeCloseTo(adv, 6);
    expect(got.con).toBeCloseTo(con, 6);
    expect(got.enc).toBeCloseTo(enc, 6);
    expect(got.g).toBeCloseTo(adv + 50 * con + enc, 4);
    expect(got.d).toBeCloseTo(d, 6);
    expect(got.d_reset).toBe(0);
    expect(adv * con * enc * d).toBeGreaterThan(0);
    tf.dispose([images, x, fake, latentI, latentO, fr, ff]);
    trainer.dispose();
    a.dispose();
    b.dispose();
  });

  it('updates G with the pre-update D, then D on the pre-update x̂ (Adam eps 1 makes the step linear in the gradient)', () => {
    // With eps = 1 Adam's first step is lr·g/(|g| + 1): the new weights reveal the gradient used.
    const config = small({ optimizer: { lr: 0.1, betas: [0.5, 0.999], eps: 1 } });
    const a = new GanomalyModel(config, 5);
    const b = new GanomalyModel(config, 5);
    const images = checkImages(4, 16, 6);
    const x = a.input(images);
    const gVars = a.generator.state().filter((e) => e.kind === 'parameter');
    const dVars = a.discriminator.state().filter((e) => e.kind === 'parameter');
    let fake: tf.Tensor4D | undefined;
    const gG = tf.variableGrads(
      () => {
        const l = generatorLosses(a.generator, a.discriminator, x, config.loss);
        fake = tf.keep(l.fake);
        return l.total;
      },
      gVars.map((e) => e.variable),
    );
    const before = fake as unknown as tf.Tensor4D;
    const gD = tf.variableGrads(
      () => discriminatorStepLoss(a.discriminator, x, before),
      dVars.map((e) => e.variable),
    );
    const expect1 = (w: tf.Variable, g: tf.Tensor) =>
      tf.tidy(() => tf.sub(w, tf.div(tf.mul(g, 0.1), tf.add(tf.abs(g), 1))).dataSync());
    const expectedG = gVars.map((e) => expect1(e.variable, gG.grads[e.variable.name]));
    const expectedD = dVars.map((e) => expect1(e.variable, gD.grads[e.variable.name]));
    // the wrong order for comparison: D trained on the x̂ of the already-updated G
    gVars.forEach((e, i) => {
      e.variable.assign(tf.tensor(expectedG[i], e.variable.shape));
    });
    const after = tf.tidy(() => a.generator.apply(x, { training: true }).fake);
    const gDLate = tf.variableGrads(
      () => discriminatorStepLoss(a.discriminator, x, after),
      dVars.map((e) => e.variable),
    );
    const wrongD = dVars.map((e) => expect1(e.variable, gDLate.grads[e.variable.name]));

    const trainer = b.createTrainer(Rng.fromSeed(0));
    trainer.step(images, at(0));
    const maxDiff = (p: Float32Array | Int32Array | Uint8Array, q: ArrayLike<number>) => {
      let m = 0;
      for (let i = 0; i < p.length; i++) m = Math.max(m, Math.abs(p[i] - q[i]));
      return m;
    };
    const bG = b.generator.state().filter((e) => e.kind === 'parameter');
    const bD = b.discriminator.state().filter((e) => e.kind === 'parameter');
    const gErr = Math.max(...bG.map((e, i) => maxDiff(expectedG[i], e.variable.dataSync())));
    const dErr = Math.max(...bD.map((e, i) => maxDiff(expectedD[i], e.variable.dataSync())));
    const dWrong = Math.max(...bD.map((e, i) => maxDiff(wrongD[i], e.variable.dataSync())));
    expect(gErr).toBeLessThan(1e-6);
    expect(dErr).toBeLessThan(1e-6);
    expect(dWrong).toBeGreaterThan(1e-4);
    tf.dispose([images, x, before, after, gG.value, gD.value, gDLate.value]);
    tf.dispose([gG.grads, gD.grads, gDLate.grads]);
    trainer.dispose();
    a.dispose();
    b.dispose();
  });

  it('re-initialises D with weights_init from the run Rng when L_D < 1e-5, keeping its running statistics and Adam state', () => {
    const config = small();
    const model = new GanomalyModel(config, 3);
    const D = model.discriminator;
    const rng = Rng.fromSeed(11);
    const trainer = model.createTrainer(rng);
    const images = checkImages(4, 16, 3);
    // an ordinary first step gives Adam non-zero moments
    expect(trainer.step(images, at(0)).d_reset).toBe(0);
    const adamEntry = (name: string) =>
      trainer
        .state()
        .find((e) => e.name === name)
        ?.variable.dataSync()
        .slice();
    const m1 = adamEntry('optimizer_d.exp_avg.classifier.0.weight') as Float32Array;
    expect(m1.some((v) => v !== 0)).toBe(true);
    // Force L_D to ~0: x̂ ≡ 0 (decoder's last conv zeroed, tanh(0) = 0), so D's only BatchNorm sees a
    // constant 0 on fakes and outputs β = −10 there (LeakyReLU → −2, logit −128 with all-ones
    // classifier weights), while real features are 1000·x̂ − 10 with x̂ normalised: logits ≫ 0.
    model.generator.decoder.final.weight.assign(tf.zerosLike(model.generator.decoder.final.weight));
    const norm = D.net.pyramid[0].norm;
    norm.weight.assign(tf.fill(norm.weight.shape, 1000));
    norm.bias.assign(tf.fill(norm.bias.shape, -10));
    D.net.final.weight.assign(tf.onesLike(D.net.final.weight));
    const saved = rng.getState();
    const losses = trainer.step(images, at(1));
    expect(losses.d).toBeLessThan(1e-5);
    expect(losses.d_reset).toBe(1);
    // D's weights are now exactly a fresh weights_init draw from the Rng as it was before the step
    const fresh = new GanomalyModel(config, 3).discriminator;
    fresh.reset(Rng.fromState(saved));
    const weights = (s: typeof D) =>
      s
        .state()
        .filter((e) => e.kind === 'parameter')
        .map((e) => Array.from(e.variable.dataSync()));
    expect(weights(D)).toEqual(weights(fresh));
    expect(norm.weight.dataSync().every((v) => Math.abs(v - 1) < 0.1)).toBe(true); // γ back near 1
    // running statistics kept (eight updates, not back to 0 / 1)
    expect(norm.runningVar.dataSync().some((v) => Math.abs(v - 1) > 1e-3)).toBe(true);
    expect(norm.numBatchesTracked.dataSync()[0]).toBe(8);
    // Adam state kept: two steps, and the moment decayed from step 1's (β1 = 0.5; saturated D: g ≈ 0)
    expect(adamEntry('optimizer_d.step')?.[0]).toBe(2);
    const m2 = adamEntry('optimizer_d.exp_avg.classifier.0.weight') as Float32Array;
    m2.forEach((v, i) => {
      expect(v).toBeCloseTo(0.5 * m1[i], 6);
    });
    // the Rng moved (one seed per D tensor), so a resume must carry its state
    expect(rng.getState()).not.toEqual(saved);

    // control: the same two steps without the forcing leave D as Adam moved it and the Rng untouched
    const plain = new GanomalyModel(config, 3);
    const plainRng = Rng.fromSeed(11);
    const t2 = plain.createTrainer(plainRng);
    t2.step(images, at(0));
    expect(t2.step(images, at(1)).d_reset).toBe(0);
    expect(weights(plain.discriminator)).not.toEqual(weights(fresh));
    expect(plainRng.getState()).toEqual(Rng.fromSeed(11).getState());
    fresh.dispose();
    images.dispose();
    trainer.dispose();
    t2.dispose();
    model.dispose();
    plain.dispose();
  });

  it('the gradients of L_G and L_D match central finite differences', () => {
    // w_con 1 instead of 50: float32 rounding of the 50× L1 term alone moves single differences by ~0.02
    const config = small({ loss: { wAdv: 1, wCon: 1, wEnc: 1, dResetBelow: 1e-5 } });
    const model = new GanomalyModel(config, 7);
    const images = checkImages(4, 16, 8);
    const x = model.input(images);
    const fake = tf.tidy(() => model.generator.apply(x, { training: true }).fake);
    const lossG = () =>
      tf.tidy(
        () => generatorLosses(model.generator, model.discriminator, x, config.loss).total.dataSync()[0],
      );
    const lossD = () => tf.tidy(() => discriminatorStepLoss(model.discriminator, x, fake).dataSync()[0]);
    const check = (entries: ReturnType<typeof params>, loss: () => number, f: () => tf.Scalar) => {
      const { value, grads } = tf.variableGrads(
        f,
        entries.map((e) => e.variable),
      );
      const rows: [string, number, number][] = [];
      for (const e of entries) {
        const g = grads[e.variable.name].dataSync();
        // the entry with the largest gradient (the least affected by float32 rounding)
        let at = 0;
        for (let i = 1; i < g.length; i++) if (Math.abs(g[i]) > Math.abs(g[at])) at = i;
        const w = e.variable.dataSync().slice();
        const eps = 1e-3;
        const set = (v: number) => {
          const copy = w.slice();
          copy[at] = v;
          e.variable.assign(tf.tensor(copy, e.variable.shape));
        };
        set(w[at] + eps);
        const up = loss();
        set(w[at] - eps);
        const down = loss();
        set(w[at]);
        rows.push([e.name, g[at], (up - down) / (2 * eps)]);
      }
      tf.dispose([value, grads]);
      return rows;
    };
    const gEntries = model.generator
      .state()
      .filter((e) => e.kind === 'parameter' && e.name.endsWith('weight'));
    const dEntries = model.discriminator.state().filter((e) => e.kind === 'parameter');
    const rows = [
      ...check(
        gEntries,
        lossG,
        () => generatorLosses(model.generator, model.discriminator, x, config.loss).total,
      ),
      ...check(dEntries, lossD, () => discriminatorStepLoss(model.discriminator, x, fake)),
    ];
    expect(rows.length).toBeGreaterThan(15);
    // float32 losses and the kinks of L1, ReLU and LeakyReLU make single differences noisy (a few
    // per cent on this 2-channel net, either sign); a wrong gradient is off by far more
    const errors = rows.map(([name, analytic, numeric]) => {
      const err = Math.abs(analytic - numeric) / Math.max(Math.abs(numeric), 0.05);
      expect(err, `${name}: analytic ${analytic}, finite difference ${numeric}`).toBeLessThan(0.1);
      return err;
    });
    errors.sort((p, q) => p - q);
    expect(errors[Math.floor(errors.length / 2)]).toBeLessThan(0.01);
    tf.dispose([images, x, fake]);
    model.dispose();
  });

  it('resumes exactly: a fresh model and trainer given the saved states and Rng continue bit for bit', () => {
    // D reset on every step (threshold 10), so the Rng's state is part of what must be restored
    const config = small({ loss: { wAdv: 1, wCon: 50, wEnc: 1, dResetBelow: 10 } });
    const images = [1, 2, 3].map((s) => checkImages(2, 16, s));
    const model = new GanomalyModel(config, 1);
    const rng = Rng.fromSeed(21);
    const trainer = model.createTrainer(rng);
    trainer.step(images[0], at(0));
    trainer.step(images[1], at(1));
    const modelState = model.state().map((e) => ({ name: e.name, value: e.variable.clone() }));
    const trainerState = trainer.state().map((e) => ({ name: e.name, value: e.variable.clone() }));
    const rngState = rng.getState();

    const resumed = new GanomalyModel(config, 99);
    const resumedTrainer = resumed.createTrainer(Rng.fromState(rngState));
    const restore = (entries: { name: string; variable: tf.Variable }[], saved: typeof modelState) => {
      expect(entries.map((e) => e.name)).toEqual(saved.map((s) => s.name));
      entries.forEach((e, i) => {
        e.variable.assign(saved[i].value);
      });
    };
    restore(resumed.state(), modelState);
    restore(resumedTrainer.state(), trainerState);
    const a = trainer.step(images[2], at(2));
    const b = resumedTrainer.step(images[2], at(2));
    expect(b).toEqual(a);
    expect(a.d_reset).toBe(1);
    const bits = (m: GanomalyModel) =>
      m.state().map((e) => Array.from(new Uint32Array(e.variable.dataSync().slice().buffer)));
    expect(bits(resumed)).toEqual(bits(model));
    const optBits = (t: typeof trainer) =>
      t.state().map((e) => Array.from(new Uint32Array(e.variable.dataSync().slice().buffer)));
    expect(optBits(resumedTrainer)).toEqual(optBits(trainer));
    tf.dispose([...images, ...modelState.map((s) => s.value), ...trainerState.map((s) => s.value)]);
    trainer.dispose();
    resumedTrainer.dispose();
    model.dispose();
    resumed.dispose();
  });
});

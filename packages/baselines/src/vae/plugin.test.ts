import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages, checkModelPlugin } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { finiteDifferences, resumeCheck } from '../ae/plugin-checks.fixture.js';
import { vaeConfigSchema } from './config.js';
import { reparameterise } from './gaussian-latent.js';
import { VaeModel } from './model.js';
import { vaePlugin } from './plugin.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const at = (i: number) => ({ epoch: 0, stepInEpoch: i, iteration: i, totalIterations: 10 });

describe('vae plug-in', () => {
  it('keeps the ModelPlugin contract at the tiny preset', () => {
    const report = checkModelPlugin(vaePlugin, vaePlugin.presetConfig('tiny'));
    expect(report.problems).toEqual([]);
    expect(Object.keys(report.losses)).toEqual(['loss', 'recon', 'kl']);
    expect(report.losses.loss).toBeCloseTo(report.losses.recon + report.losses.kl, 2);
  });

  it('presets: the AE network and optimiser, a unit-weight sum of squared errors', () => {
    const c = vaePlugin.presetConfig('zhanglab');
    expect(c.imageSize).toBe(128);
    expect(c.network).toEqual({ nz: 100, ngf: 64 });
    expect(c.loss).toEqual({ decoderVariance: 0.5 });
    expect(c.optimizer).toEqual({ lr: 2e-4, betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(c.train).toEqual({ seed: 0, batchSize: 16, epochs: 200, iterationsPerEpoch: null });
  });

  // The preset's size with narrow layers (nz 8, ngf 4): padding and cropping depend on the size only.
  it.each([
    ['tiny', 48],
    ['digitanatomy', 96],
    ['chexpert', 128],
  ] as const)('builds at %s (%i px); raw = Σ (x − dec(μ))² + KL(μ, σ²) by loops', (preset, S) => {
    const config = { ...vaePlugin.presetConfig(preset), network: { nz: 8, ngf: 4 } };
    expect(config.imageSize).toBe(S);
    const model = new VaeModel(config, 0);
    const x = checkImages(2, S);
    const { recon, raw } = model.infer(x);
    expect(recon.shape).toEqual([2, S, S, 1]);
    expect(raw.shape).toEqual([2]);
    const { mu, logVar } = model.encode(x, false);
    const [r, xs, m, lv] = [recon, x, mu, logVar].map((t) => t.dataSync());
    const P = S * S;
    for (let b = 0; b < 2; b++) {
      let sq = 0;
      for (let i = b * P; i < (b + 1) * P; i++) {
        expect(r[i] >= 0 && r[i] <= 1).toBe(true);
        sq += (2 * r[i] - 1 - (2 * xs[i] - 1)) ** 2; // in [−1, 1] units
      }
      let kl = 0;
      for (let j = b * 8; j < (b + 1) * 8; j++) kl += -0.5 * (1 + lv[j] - m[j] ** 2 - Math.exp(lv[j]));
      expect(raw.dataSync()[b]).toBeCloseTo(sq / (2 * 0.5) + kl, 1);
      expect(Math.abs(raw.dataSync()[b] - (sq + kl)) / (sq + kl)).toBeLessThan(1e-5);
    }
    tf.dispose([recon, raw, x, mu, logVar]);
    model.dispose();
  });

  // float32, eps 1e-4 (see the AE's test): the loss is the batch mean of the negative ELBO with a fixed ε.
  it('training loss gradient matches central differences, through μ and log σ² (a 16-px network)', () => {
    const config = vaeConfigSchema.parse({ preset: 'tiny', imageSize: 16, network: { nz: 3, ngf: 4 } });
    const model = new VaeModel(config, 4);
    const x = checkImages(3, 16, 6);
    const rng = Rng.fromSeed(2);
    const eps = tf.tensor4d(
      Array.from({ length: 9 }, () => rng.normal()),
      [3, 1, 1, 3],
    );
    // The loss scaled by 1/P (P = 256 pixels), and for the differences the same loss written out
    // from per-pixel and per-latent terms summed in float64: float32 sums of a loss over pixels
    // are too noisy for steps of 1e-4.
    const loss = () => tf.tidy(() => tf.div(tf.mean(model.trainingTerms(x, eps).total), 256) as tf.Scalar);
    const value = () => {
      const [sq, klTerms] = tf
        .tidy(() => {
          const { input, mu, logVar } = model.encode(x, true);
          const recon = model.decode(reparameterise(mu, logVar, eps) as tf.Tensor4D, true);
          return [
            tf.squaredDifference(recon, input),
            tf.sub(tf.sub(tf.add(logVar, 1), tf.square(mu)), tf.exp(logVar)),
          ];
        })
        .map((t) => {
          const d = t.dataSync();
          t.dispose();
          return d;
        });
      let total = 0;
      for (const v of sq) total += v / (2 * 0.5);
      for (const v of klTerms) total += -0.5 * v;
      return total / 3 / 256;
    };
    const weights = [model.encoder.initial.weight, model.encoder.final.weight, model.decoder.initial.weight];
    for (const w of weights)
      for (const [analytic, numeric] of finiteDifferences(loss, w, 4, 1e-4, value))
        expect(Math.abs(analytic - numeric), `${w.name}: ${analytic} vs ${numeric}`).toBeLessThan(
          0.01 * Math.abs(analytic) + 1e-5,
        );
    model.dispose();
    tf.dispose([x, eps]);
  });

  it('ε comes from the trainer Rng: the same seed repeats a step, another seed changes it', () => {
    const config = vaeConfigSchema.parse({ preset: 'tiny', imageSize: 16, network: { nz: 3, ngf: 4 } });
    const x = checkImages(4, 16);
    const first = (seed: number) => {
      const model = vaePlugin.create(config, 0);
      const trainer = model.createTrainer(Rng.fromSeed(seed));
      const losses = trainer.step(x, at(0));
      // The run reports these per iteration.
      expect(Object.keys(trainer.timings ?? {})).toEqual(['forward', 'backward', 'optimizer']);
      expect(Object.values(trainer.timings ?? {}).every((ms) => ms > 0)).toBe(true);
      trainer.dispose();
      model.dispose();
      return losses;
    };
    expect(first(5)).toEqual(first(5));
    expect(first(6).recon).not.toBe(first(5).recon);
    x.dispose();
  });

  it('resumes exactly: model + trainer + Rng state after 2 steps give the same third step, bit for bit', () => {
    const r = resumeCheck(vaePlugin, vaePlugin.presetConfig('tiny'), 2);
    expect(r.resumed).toEqual(r.original);
    expect(r.differing).toEqual([]);
    expect(r.entries).toBeGreaterThan(40);
  });
});

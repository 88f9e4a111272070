import { initBackend, tf } from '@squid-ad/backend';
import { checkImages, checkModelPlugin, PRESET_NAMES } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { aeConfigSchema } from './config.js';
import { AeModel } from './model.js';
import { aePlugin } from './plugin.js';
import { finiteDifferences, resumeCheck } from './plugin-checks.fixture.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('ae plug-in', () => {
  it('keeps the ModelPlugin contract at the tiny preset', () => {
    const report = checkModelPlugin(aePlugin, aePlugin.presetConfig('tiny'));
    expect(report.problems).toEqual([]);
    expect(Object.keys(report.losses)).toEqual(['recon']);
  });

  it("presets: the SQUID schedule, GANomaly's widths and optimiser", () => {
    const c = aePlugin.presetConfig('digitanatomy');
    expect(c.imageSize).toBe(96);
    expect(c.train).toEqual({ seed: 0, batchSize: 16, epochs: 200, iterationsPerEpoch: null });
    expect(c.network).toEqual({ nz: 100, ngf: 64 });
    expect(c.optimizer).toEqual({ lr: 2e-4, betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(aePlugin.presetConfig('chexpert').train.iterationsPerEpoch).toBe(84);
    expect(aePlugin.presetConfig('tiny').train).toMatchObject({ batchSize: 4, epochs: 2 });
    for (const p of PRESET_NAMES)
      expect(aeConfigSchema.parse(aePlugin.presetConfig(p))).toEqual(aePlugin.presetConfig(p));
  });

  // The preset's size with narrow layers (nz 8, ngf 4): padding and cropping depend on the size
  // only, and the full widths take seconds to build.
  it.each([
    ['tiny', 48],
    ['digitanatomy', 96],
    ['zhanglab', 128],
  ] as const)(
    'builds at %s (%i px): recon [1,S,S,1] in [0, 1], raw [1] = its mean squared error',
    (preset, S) => {
      const config = { ...aePlugin.presetConfig(preset), network: { nz: 8, ngf: 4 } };
      expect(config.imageSize).toBe(S);
      const model = aePlugin.create(config, 0);
      const x = checkImages(1, S);
      const { recon, raw } = model.infer(x);
      expect(recon.shape).toEqual([1, S, S, 1]);
      expect(raw.shape).toEqual([1]);
      const r = recon.dataSync();
      const xs = x.dataSync();
      expect(r.every((v) => v >= 0 && v <= 1)).toBe(true);
      let sum = 0;
      for (let i = 0; i < r.length; i++) sum += (r[i] - xs[i]) ** 2;
      expect(raw.dataSync()[0]).toBeCloseTo(sum / r.length, 6);
      tf.dispose([recon, raw, x]);
      model.dispose();
    },
  );

  // float32, eps 1e-4: larger steps cross the ReLU / LeakyReLU kinks of a 0.02-scale network
  // (at 1e-2 the encoder's first conv is off by 13 %, at 1e-4 by < 1 %).
  it('training loss gradient matches central differences (a 16-px network)', () => {
    const config = aeConfigSchema.parse({
      preset: 'tiny',
      imageSize: 16,
      train: { batchSize: 3 },
      network: { nz: 4, ngf: 4 },
    });
    const model = new AeModel(config, 4);
    const x = checkImages(3, 16, 6);
    const loss = () =>
      tf.tidy(() => {
        const { input, recon } = model.forward(x, true);
        return tf.mean(tf.squaredDifference(recon, input)) as tf.Scalar;
      });
    const weights = [
      model.encoder.initial.weight,
      model.encoder.final.weight,
      model.decoder.initial.weight,
      model.decoder.final.weight,
    ];
    for (const w of weights)
      for (const [analytic, numeric] of finiteDifferences(loss, w, 3, 1e-4))
        expect(Math.abs(analytic - numeric), `${w.name}: ${analytic} vs ${numeric}`).toBeLessThan(
          0.02 * Math.abs(analytic) + 1e-4,
        );
    model.dispose();
    x.dispose();
  });

  it('resumes exactly: state copied after 2 steps gives the same third step, bit for bit', () => {
    const r = resumeCheck(aePlugin, aePlugin.presetConfig('tiny'), 2);
    expect(r.resumed).toEqual(r.original);
    expect(r.differing).toEqual([]);
    expect(r.entries).toBeGreaterThan(40);
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages, checkModelPlugin, PRESET_NAMES } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { ganomalyConfigSchema, ganomalyPresetConfig } from './config.js';
import { GanomalyModel } from './model.js';
import { ganomalyPlugin } from './plugin.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('ganomalyPlugin', () => {
  it('keeps the plug-in contract at the tiny preset', () => {
    const report = checkModelPlugin(ganomalyPlugin, ganomalyPlugin.presetConfig('tiny'));
    expect(report.problems).toEqual([]);
    expect(Object.keys(report.losses)).toEqual(['g', 'adv', 'con', 'enc', 'd', 'd_reset']);
  });

  it('presets: the official networks, weights and Adam; SQUID schedule; round-trips through its schema', () => {
    for (const preset of PRESET_NAMES) {
      const c = ganomalyPlugin.presetConfig(preset);
      expect(ganomalyConfigSchema.parse(JSON.parse(JSON.stringify(c)))).toEqual(c);
      expect(c.loss).toEqual({ wAdv: 1, wCon: 50, wEnc: 1, dResetBelow: 1e-5 });
      expect(c.optimizer).toEqual({ lr: 2e-4, betas: [0.5, 0.999], eps: 1e-8 });
      expect(ganomalyPlugin.recipe(c)).toEqual({ preset, imageSize: c.imageSize, train: c.train });
    }
    expect(ganomalyPresetConfig('digitanatomy')).toMatchObject({
      imageSize: 96,
      network: { nz: 100, ngf: 64 },
      train: { batchSize: 16, epochs: 200, iterationsPerEpoch: null },
    });
    expect(ganomalyPresetConfig('chexpert').train.iterationsPerEpoch).toBe(84);
    expect(ganomalyPresetConfig('tiny')).toMatchObject({ imageSize: 48, train: { batchSize: 4, epochs: 2 } });
  });

  it.each([
    ['tiny', 48, 64],
    ['digitanatomy', 96, 128],
    ['zhanglab', 128, 128],
  ] as const)(
    '%s: %i px images run at %i px; infer gives [1, S, S, 1] in (0, 1) and [1]',
    (preset, S, padded) => {
      // the preset's image size and the padding with a narrow network (the real width is only slower)
      const config = { ...ganomalyPresetConfig(preset), network: { nz: 8, ngf: 2 } };
      const model = new GanomalyModel(config, 1);
      expect(model.paddedSize).toBe(padded);
      expect(model.generator.decoder.options.imageSize).toBe(padded);
      const x = checkImages(1, S);
      const out = model.infer(x);
      expect(out.recon.shape).toEqual([1, S, S, 1]);
      expect(out.raw.shape).toEqual([1]);
      const r = out.recon.dataSync();
      expect(Math.min(...r)).toBeGreaterThan(0);
      expect(Math.max(...r)).toBeLessThan(1);
      tf.dispose([x, out.recon, out.raw]);
      model.dispose();
    },
  );

  it('state names are the official netG / netD state_dict names', () => {
    // 32 px (encoder 64@16, 128@8, 256@4): the official widths, small enough to build fast
    const model = new GanomalyModel(
      { ...ganomalyPresetConfig('tiny'), imageSize: 32, network: { nz: 100, ngf: 64 } },
      0,
    );
    const names = model.state().map((e) => e.name);
    expect(names.filter((n) => n.startsWith('netg.encoder1.'))).toContain(
      'netg.encoder1.main.pyramid-64-128-conv.weight',
    );
    expect(names).toContain('netg.decoder.main.initial-100-256-convt.weight');
    expect(names).toContain('netg.decoder.main.pyramid-256-128-convt.weight');
    expect(names).toContain('netg.encoder2.main.final-256-1-conv.weight');
    // NetD re-wraps the encoder's layers: features.0 (initial conv), .2/.3 (conv, BN), …, classifier.0
    expect(names.filter((n) => n.startsWith('netd.')).filter((n) => n.endsWith('.weight'))).toEqual([
      'netd.features.0.weight',
      'netd.features.2.weight',
      'netd.features.3.weight',
      'netd.features.5.weight',
      'netd.features.6.weight',
      'netd.classifier.0.weight',
    ]);
    const classifier = model.state().find((e) => e.name === 'netd.classifier.0.weight');
    expect(classifier?.variable.shape).toEqual([4, 4, 256, 1]);
    expect(model.scoringState().every((e) => e.name.startsWith('netg.'))).toBe(true);
    model.dispose();
  });

  it('the raw score is the mean over nz of (z − ẑ)² of the eval-mode latents (plain loops)', () => {
    const config = { ...ganomalyPresetConfig('tiny'), network: { nz: 5, ngf: 2 } };
    const model = new GanomalyModel(config, 4);
    // move the running statistics off their initial 0 / 1 so eval mode is really tested
    const trainer = model.createTrainer(Rng.fromSeed(1));
    const x = checkImages(3, 48, 2);
    trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 1 });
    const { raw, recon } = model.infer(x);
    // independent path: pad by hand in JS, then the three networks in eval mode
    const xs = x.arraySync();
    const padded = tf.tensor4d(
      xs.map((img) =>
        Array.from({ length: 64 }, (_, r) =>
          Array.from({ length: 64 }, (_, c) =>
            r >= 8 && r < 56 && c >= 8 && c < 56 ? [2 * img[r - 8][c - 8][0] - 1] : [0],
          ),
        ),
      ),
    );
    const g = model.generator;
    const z = g.encoder1.apply(padded, { training: false });
    const fake = g.decoder.apply(z, { training: false });
    const zHat = g.encoder2.apply(fake, { training: false });
    const zv = z.dataSync();
    const zh = zHat.dataSync();
    const expected = [0, 1, 2].map((b) => {
      let s = 0;
      for (let j = 0; j < 5; j++) s += (zv[b * 5 + j] - zh[b * 5 + j]) ** 2;
      return s / 5;
    });
    const got = raw.dataSync();
    for (let b = 0; b < 3; b++) expect(got[b]).toBeCloseTo(expected[b], 6);
    expect(Math.max(...expected)).toBeGreaterThan(1e-6); // not trivially zero
    const fv = fake.arraySync();
    const rv = recon.arraySync();
    expect(rv[2][47][0][0]).toBeCloseTo((fv[2][55][8][0] + 1) / 2, 6);
    tf.dispose([x, raw, recon, padded, z, fake, zHat]);
    trainer.dispose();
    model.dispose();
  });

  it('refuses images of the wrong size with a one-line error', () => {
    const model = new GanomalyModel({ ...ganomalyPresetConfig('tiny'), network: { nz: 4, ngf: 2 } }, 0);
    const x = checkImages(1, 32);
    expect(() => model.infer(x)).toThrow('GANomaly: expected images [B, 48, 48, 1], got [1,32,32,1]');
    x.dispose();
    model.dispose();
  });
});

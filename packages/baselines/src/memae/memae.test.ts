import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages, checkModelPlugin } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type MemaeConfig, memaeConfigSchema } from './config.js';
import { GongMemae } from './gong-network.js';
import { createMemae, memaeLoss, memaePlugin, toSignedRange } from './memae.js';
import { gradientCheck, resumeCheck } from './training-checks.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** A small `memae` for the math checks: 16 px, widths 4/6, 8 slots. */
function small(network: Partial<MemaeConfig['network']> = {}): MemaeConfig {
  return memaeConfigSchema.parse({
    preset: 'tiny',
    imageSize: 16,
    train: { batchSize: 2, epochs: 1 },
    network: { encoderWidths: [4, 6], decoderWidths: [6], memorySlots: 8, ...network },
  });
}

describe('memae (Gong et al.)', () => {
  it('keeps the plug-in contract at the tiny preset', () => {
    const config = memaePlugin.presetConfig('tiny');
    expect(config.imageSize).toBe(48);
    expect(config.train).toMatchObject({ batchSize: 4, epochs: 2, iterationsPerEpoch: null });
    const report = checkModelPlugin(memaePlugin, config);
    expect(report.problems).toEqual([]);
    expect(Object.keys(report.losses)).toEqual(['recon', 'entropy', 'total']);
  });

  it('official settings: λ 0.0025, α 0.0002, Adam 1e-4 (0.9, 0.999), N 500, CIFAR widths', () => {
    const c = memaePlugin.presetConfig('digitanatomy');
    expect(c.network).toEqual({
      encoderWidths: [64, 128, 256],
      decoderWidths: [256, 128],
      memorySlots: 500,
      shrinkThreshold: 0.0025,
    });
    expect(c.loss.entropyWeight).toBe(0.0002);
    expect(c.optimizer).toEqual({ lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(memaePlugin.presetConfig('chexpert').train.iterationsPerEpoch).toBe(84);
    expect(() => memaeConfigSchema.parse({ ...c, imageSize: 100 })).toThrow(/not divisible by 2\^3/);
  });

  it('state names follow the official Sequentials; conv weights N(0, 0.02), BN γ N(1, 0.02)', () => {
    const net = new GongMemae(small().network, Rng.fromSeed(3));
    const names = net.state().map((e) => e.name);
    expect(names.filter((n) => n.endsWith('weight'))).toEqual([
      'encoder.0.weight',
      'encoder.1.weight',
      'encoder.3.weight',
      'encoder.4.weight',
      'mem_rep.memory.weight',
      'decoder.0.weight',
      'decoder.1.weight',
      'decoder.3.weight',
    ]);
    const stats = (name: string) => {
      const v = Array.from(
        net
          .state()
          .find((e) => e.name === name)
          ?.variable.dataSync() ?? [0],
      );
      const mean = v.reduce((a, b) => a + b, 0) / v.length;
      return { mean, std: Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / v.length) };
    };
    // encoder.3: 3·3·4·6 = 216 draws.
    expect(stats('encoder.3.weight').mean).toBeCloseTo(0, 2);
    expect(stats('encoder.3.weight').std).toBeGreaterThan(0.015);
    expect(stats('encoder.3.weight').std).toBeLessThan(0.025);
    expect(stats('encoder.1.weight').mean).toBeCloseTo(1, 1);
    expect(
      Array.from(
        net
          .state()
          .find((e) => e.name === 'encoder.1.bias')
          ?.variable.dataSync() ?? [],
      ),
    ).toEqual([0, 0, 0, 0]);
    net.dispose();
  });

  it('loss = MSE + α·entropy and score = mean |x̂ − x| in [−1, 1] units, against plain loops', () => {
    const config = small({ shrinkThreshold: 0.1 });
    const net = new GongMemae(config.network, Rng.fromSeed(4));
    const images = checkImages(2, 16, 5);
    const x = Array.from(toSignedRange(images).dataSync());
    const fwd = net.apply(toSignedRange(images), { stats: 'batch', update: false });
    const r = fwd.recon.dataSync();
    const att = fwd.attention.arraySync() as number[][];
    // 2 images × 4×4 positions, each a query over 8 slots; λ = 0.1 leaves some slots out.
    expect(fwd.attention.shape).toEqual([32, 8]);
    expect(att.flat().some((v) => v === 0)).toBe(true);
    let sq = 0;
    for (let i = 0; i < x.length; i++) sq += (r[i] - x[i]) ** 2;
    let ent = 0;
    for (const row of att) for (const w of row) ent -= w * Math.log(w + 1e-12);
    const mseRef = sq / x.length;
    const entRef = ent / att.length;
    const loss = memaeLoss(net, images, 0.5, false);
    expect(loss.terms.recon.dataSync()[0]).toBeCloseTo(mseRef, 6);
    expect(loss.terms.entropy.dataSync()[0]).toBeCloseTo(entRef, 5);
    expect(loss.terms.total.dataSync()[0]).toBeCloseTo(mseRef + 0.5 * entRef, 5);

    // Fresh BatchNorm running statistics are mean 0, var 1: eval mode divides by √(1 + 1e-5).
    const model = createMemae(config, 4);
    const { recon, raw } = model.infer(images);
    const evalRecon = net.apply(toSignedRange(images), { stats: 'running' }).recon.dataSync();
    const per = 16 * 16;
    for (let b = 0; b < 2; b++) {
      let abs = 0;
      for (let i = b * per; i < (b + 1) * per; i++) abs += Math.abs(evalRecon[i] - x[i]);
      expect(raw.dataSync()[b]).toBeCloseTo(abs / per, 6);
    }
    const shown = recon.dataSync();
    for (let i = 0; i < shown.length; i += 37)
      expect(shown[i]).toBeCloseTo(Math.min(1, Math.max(0, (evalRecon[i] + 1) / 2)), 6);
    model.dispose();
    net.dispose();
  });

  it('gradient of the loss against central finite differences (cpu, float32)', () => {
    const net = new GongMemae(small({ shrinkThreshold: 0.1 }).network, Rng.fromSeed(6));
    // 8 px (bottleneck 2×2×6): few pixels, so few ReLU kinks fall within ±eps.
    const images = checkImages(2, 8, 7);
    // α raised to 0.2 so that the entropy term's gradient is not lost beside the MSE's.
    const loss = () => memaeLoss(net, images, 0.2, false).objective;
    // Which addressing weights survive the shrinkage: must not change under a step.
    const kept = () =>
      tf.tidy(() =>
        Array.from(
          net.apply(toSignedRange(images), { stats: 'batch', update: false }).attention.greater(0).dataSync(),
        ).join(''),
      );
    expect(kept()).toMatch(/0/);
    const byName = (n: string) => net.state().find((e) => e.name === n)?.variable as tf.Variable;
    for (const name of [
      'encoder.0.weight',
      'encoder.4.bias',
      'mem_rep.memory.weight',
      'decoder.0.weight',
      'decoder.3.bias',
    ]) {
      const checks = gradientCheck(loss, byName(name), 3e-4, kept);
      expect(checks.length, name).toBe(Math.min(3, byName(name).size));
      // float32 differences and the odd ReLU kink within ±eps: a few per cent at most.
      for (const { analytic, numeric } of checks) {
        expect(Math.abs(analytic), name).toBeGreaterThan(1e-4);
        expect(Math.abs(numeric - analytic), name).toBeLessThan(0.03 * Math.abs(analytic) + 1e-4);
      }
    }
    net.dispose();
  });

  it('resumes exactly: model, Adam and Rng state copied into a fresh model give the same next step', () => {
    const r = resumeCheck(memaePlugin, small(), checkImages(2, 16, 8));
    expect(r.differedBeforeCopy.length).toBeGreaterThan(0);
    expect(r.resumed).toEqual(r.original);
    expect(r.differAfter).toEqual([]);
  });
});

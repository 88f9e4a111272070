import { initBackend, Rng, tf } from '@squid-ad/backend';
import { MemoryMatrix } from '@squid-ad/memory-queue';
import { checkImages, checkModelPlugin } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { type MemaeSquidConfig, memaeSquidConfigSchema } from './config.js';
import { createMemaeSquid, memaeSquidLoss, memaeSquidPlugin } from './memae-squid.js';
import { bottleneckQuery, bottleneckSide, fromBottleneckQuery, SquidMemae } from './squid-network.js';
import { gradientCheck, resumeCheck } from './training-checks.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** A small `memae-squid`: 16 px, f = 2, level 2 (bottleneck 4×4×8 = one 128-d query), 6 slots. */
function small(network: Partial<MemaeSquidConfig['network']> = {}): MemaeSquidConfig {
  return memaeSquidConfigSchema.parse({
    preset: 'tiny',
    imageSize: 16,
    train: { batchSize: 2, epochs: 1 },
    network: { featuresRoot: 2, level: 2, memorySlots: 6, ...network },
  });
}

describe("memae-squid (the SQUID authors' MemAE)", () => {
  it('keeps the plug-in contract at the tiny preset', () => {
    const config = memaeSquidPlugin.presetConfig('tiny');
    expect(config.imageSize).toBe(48);
    expect(config.network).toEqual({ featuresRoot: 8, level: 4, memorySlots: 2000, shrinkThreshold: 0.0015 });
    const report = checkModelPlugin(memaeSquidPlugin, config);
    expect(report.problems).toEqual([]);
    expect(Object.keys(report.losses)).toEqual(['recon']);
  });

  it('official settings: level 5, 2000 slots, λ 0.0015, 10×MSE, Adam (0.5, 0.999) eps 1e-7 wd 1e-5, cosine 300', () => {
    const zhang = memaeSquidPlugin.presetConfig('zhanglab');
    expect(zhang.network).toEqual({ featuresRoot: 32, level: 5, memorySlots: 2000, shrinkThreshold: 0.0015 });
    expect(zhang.loss.reconWeight).toBe(10);
    expect(zhang.optimizer).toEqual({ lr: 1e-4, betas: [0.5, 0.999], eps: 1e-7, weightDecay: 1e-5 });
    expect(zhang.schedule).toEqual({ tMax: 300, minLrFactor: 0.1 });
    expect(memaeSquidPlugin.presetConfig('chexpert').schedule.minLrFactor).toBe(0.5);
    // The slot size follows the image: 128 px → 4×4×512 = 8192 (official), 96 px → 3×3×512.
    expect(bottleneckSide(128, 5) * bottleneckSide(128, 5) * 512).toBe(8192);
    expect(bottleneckSide(96, 5) * bottleneckSide(96, 5) * 512).toBe(4608);
    expect(bottleneckSide(48, 4)).toBe(3);
    // Per-epoch cosine: epoch 0 at lr, epoch 150 halfway to 0.1·lr, epoch 300 at 0.1·lr.
    const model = createMemaeSquid(small(), 1);
    const trainer = model.createTrainer(Rng.fromSeed(1));
    expect(trainer.setEpoch(0).lr).toBeCloseTo(1e-4, 12);
    expect(trainer.setEpoch(150).lr).toBeCloseTo(0.55e-4, 12);
    expect(trainer.setEpoch(300).lr).toBeCloseTo(1e-5, 12);
    trainer.dispose();
    model.dispose();
  });

  it('the whole bottleneck is ONE query per image, flattened in PyTorch C, H, W order', () => {
    // [1, 2, 2, 3] NHWC with value = 100·c + 10·y + x: C,H,W order is c-major.
    const values: number[] = [];
    for (let y = 0; y < 2; y++)
      for (let x = 0; x < 2; x++) for (let c = 0; c < 3; c++) values.push(100 * c + 10 * y + x);
    const h = tf.tensor4d(values, [1, 2, 2, 3]);
    const q = bottleneckQuery(h);
    expect(q.shape).toEqual([1, 12]);
    expect(Array.from(q.dataSync())).toEqual([0, 1, 10, 11, 100, 101, 110, 111, 200, 201, 210, 211]);
    expect(Array.from(fromBottleneckQuery(q, [3, 2, 2]).dataSync())).toEqual(values);

    const net = new SquidMemae(small().network, 16, Rng.fromSeed(2));
    expect(net.bottleneck).toEqual([8, 4, 4]);
    expect(net.memory.memory.shape).toEqual([6, 128]);
    const { recon, attention } = net.apply(checkImages(3, 16), { stats: 'batch', update: false });
    expect(recon.shape).toEqual([3, 16, 16, 1]);
    // One addressing row per image, not per position.
    expect(attention.shape).toEqual([3, 6]);
    expect(net.state().map((e) => e.name)).toEqual(
      expect.arrayContaining([
        'in_conv.conv.conv1.0.weight',
        'down_blocks.1.mpconv.conv2.4.running_var',
        'up_blocks.0.conv.conv2.3.weight',
        'memory.memMatrix',
        'out_conv.conv.weight',
        'out_conv.conv.bias',
      ]),
    );
    net.dispose();
  });

  it('memory read: raw dot products (no softmax), hard shrinkage λ, L1 normalisation, as plain loops', () => {
    const m = new MemoryMatrix({ slots: 4, dim: 3, shrink: 0.0015, rng: Rng.fromSeed(1) });
    const slots = [
      [0.5, -0.25, 0.75],
      [-0.5, 0.5, 0],
      [0.001, 0, 0],
      [0.25, 0.5, 0.5],
    ];
    m.memory.assign(tf.tensor2d(slots));
    const query = [1, 0.5, 0.2];
    // Dot products 0.525, −0.25, 0.001, 0.6: the negative one and 0.001 < λ are dropped.
    const dots = slots.map((s) => s.reduce((a, v, j) => a + v * query[j], 0));
    const shrunk = dots.map((w) => (Math.max(w - 0.0015, 0) * w) / (Math.abs(w - 0.0015) + 1e-12));
    const l1 = shrunk.reduce((a, b) => a + Math.abs(b), 0);
    const w = shrunk.map((v) => v / l1);
    const out = slots[0].map((_, j) => w.reduce((a, wi, i) => a + wi * slots[i][j], 0));
    const read = m.read(tf.tensor2d([query]));
    const att = read.attention.dataSync();
    expect(Math.abs(att[1])).toBe(0);
    expect(Math.abs(att[2])).toBe(0);
    for (const [i, v] of w.entries()) expect(att[i]).toBeCloseTo(v, 6);
    for (const [j, v] of out.entries()) expect(read.out.dataSync()[j]).toBeCloseTo(v, 6);
    // By hand: 0.525 / 1.125 and 0.6 / 1.125.
    expect(att[0]).toBeCloseTo(0.46667, 4);
    m.dispose();
  });

  it('loss = 10·MSE in [0, 1] and score = mean |x̂ − x| per image, against plain loops', () => {
    const config = small();
    const net = new SquidMemae(config.network, 16, Rng.fromSeed(3));
    const images = checkImages(2, 16, 4);
    const x = images.dataSync();
    const r = net.apply(images, { stats: 'batch', update: false }).recon.dataSync();
    let sq = 0;
    for (let i = 0; i < x.length; i++) sq += (r[i] - x[i]) ** 2;
    const loss = memaeSquidLoss(net, images, 10, false);
    expect(loss.objective.dataSync()[0]).toBeCloseTo((10 * sq) / x.length, 5);

    const model = createMemaeSquid(config, 3);
    const { recon, raw } = model.infer(images);
    const evalRecon = net.apply(images, { stats: 'running' }).recon.dataSync();
    const per = 16 * 16;
    for (let b = 0; b < 2; b++) {
      let abs = 0;
      for (let i = b * per; i < (b + 1) * per; i++) abs += Math.abs(evalRecon[i] - x[i]);
      expect(raw.dataSync()[b]).toBeCloseTo(abs / per, 6);
    }
    // The sigmoid output is the reconstruction itself.
    expect(recon.dataSync()[5]).toBeCloseTo(evalRecon[5], 6);
    model.dispose();
    net.dispose();
  });

  it('gradient of the loss against central finite differences (cpu, float32)', () => {
    // 8 px (bottleneck 2×2×8): few pixels, so few ReLU kinks fall within ±eps.
    const net = new SquidMemae(small().network, 8, Rng.fromSeed(5));
    const images = checkImages(2, 8, 6);
    const loss = () => memaeSquidLoss(net, images, 10, false).objective;
    const kept = () =>
      tf.tidy(() =>
        Array.from(net.apply(images, { stats: 'batch', update: false }).attention.greater(0).dataSync()).join(
          '',
        ),
      );
    // Some slots are shrunk away, some kept.
    expect(kept()).toMatch(/0/);
    expect(kept()).toMatch(/1/);
    const byName = (n: string) => net.state().find((e) => e.name === n)?.variable as tf.Variable;
    for (const name of [
      'in_conv.conv.conv1.0.weight',
      'down_blocks.1.mpconv.conv2.3.weight',
      'memory.memMatrix',
      'up_blocks.1.conv.conv1.1.weight',
      'out_conv.conv.bias',
    ]) {
      const checks = gradientCheck(loss, byName(name), 3e-4, kept);
      expect(checks.length, name).toBe(Math.min(3, byName(name).size));
      // float32 differences and the odd ReLU kink within ±eps: measured ≤ 1.2 % apart.
      for (const { analytic, numeric } of checks) {
        expect(Math.abs(analytic), name).toBeGreaterThan(1e-3);
        expect(Math.abs(numeric - analytic), name).toBeLessThan(0.03 * Math.abs(analytic) + 1e-4);
      }
    }
    net.dispose();
  });

  it('resumes exactly: model, Adam and Rng state copied into a fresh model give the same next step', () => {
    const r = resumeCheck(memaeSquidPlugin, small(), checkImages(2, 16, 8));
    expect(r.differedBeforeCopy.length).toBeGreaterThan(0);
    expect(r.resumed).toEqual(r.original);
    expect(r.differAfter).toEqual([]);
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { bceWithLogits } from '@squid-ad/gan-core';
import { NonFiniteLossError } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSquidModel } from '../model.js';
import { getPreset } from '../presets.js';
import { SquidTrainer } from './squid-trainer.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const config = () => {
  const c = getPreset('tiny');
  c.train.nCritic = 2;
  return c;
};
const input = () => tf.randomUniform([2, 48, 48, 1], 0, 1, 'float32', 11) as tf.Tensor4D;
const values = (entries: { variable: tf.Variable }[]) =>
  entries.map((e) => Float32Array.from(e.variable.dataSync()));
const changed = (a: Float32Array[], b: Float32Array[]) =>
  a.filter((x, i) => x.some((v, k) => v !== b[i][k])).length;

describe('SquidTrainer', () => {
  it('a discriminator-only iteration computes L_D = d_w·[BCE(D(x),1) + BCE(D(G(x)),0)] and leaves G alone', () => {
    const c = config();
    const a = createSquidModel(c, Rng.fromSeed(5));
    const b = createSquidModel(c, Rng.fromSeed(5));
    const x = input();
    const trainer = new SquidTrainer(a, c, Rng.fromSeed(9));
    const gParams = a.generator.state().filter((e) => e.kind === 'parameter');
    const dParams = a.discriminator.state().filter((e) => e.kind === 'parameter');
    const g0 = values(gParams);
    const d0 = values(dParams);
    // Step 1 of an epoch with n_critic 2: discriminator only.
    const losses = trainer.step(x, 1, 0);
    expect(Object.keys(losses)).toEqual(['d']);
    // The same computation by hand on an identical model with the same mask generator.
    const expected = tf.tidy(() => {
      const recon = b.generator.forward(x, { training: true, rng: Rng.fromSeed(9) }).recon;
      const real = b.discriminator.forward(x, { training: true });
      const fake = b.discriminator.forward(recon, { training: true });
      return tf.mul(tf.add(bceWithLogits(real, 1), bceWithLogits(fake, 0)), c.loss.d).dataSync()[0];
    });
    expect(losses.d).toBeCloseTo(expected, 6);
    expect(losses.d).toBeGreaterThan(0.001);
    expect(changed(values(gParams), g0)).toBe(0);
    expect(changed(values(dParams), d0)).toBe(dParams.length);
    expect(trainer.optG.step).toBe(0);
    expect(trainer.optD.step).toBe(1);
    for (const t of [trainer, a, b, x]) t.dispose();
  });

  it.each([true, false])(
    'a generator iteration (reuse %s) updates G, D and the queues, and leaks nothing',
    (reuse) => {
      const c = config();
      const model = createSquidModel(c, Rng.fromSeed(5));
      const x = input();
      const trainer = new SquidTrainer(model, c, Rng.fromSeed(9), reuse);
      const gParams = model.generator.state().filter((e) => e.kind === 'parameter');
      const ptrs = model.generator.state().filter((e) => e.name.endsWith('.ptr'));
      const g0 = values(gParams);
      const before = tf.memory().numTensors;
      const losses = trainer.step(x, 0, 0);
      expect(tf.memory().numTensors).toBe(before);
      const w = c.loss;
      const total =
        w.recon * losses.recon! + w.g * losses.adv! + w.teacher * losses.teacher! + w.dist * losses.dist!;
      expect(losses.g).toBeCloseTo(total, 6);
      expect(losses.recon).toBeGreaterThan(0);
      // Parameters that receive a gradient move (a few, e.g. unused-in-train paths, may not).
      expect(changed(values(gParams), g0)).toBeGreaterThan(gParams.length * 0.9);
      expect(trainer.optG.step).toBe(1);
      expect(trainer.optD.step).toBe(1);
      // Each of the 9 queues enqueued the batch's 2 feature vectors.
      expect(ptrs.length).toBe(9);
      for (const p of ptrs) expect(p.variable.dataSync()[0]).toBe(2);
      // The generator's BatchNorms count the official two training forwards either way.
      const tracked = model.generator.state().filter((e) => e.name.endsWith('num_batches_tracked'));
      expect(tracked.length).toBeGreaterThan(20);
      for (const e of tracked) expect(e.variable.dataSync()[0], e.name).toBe(2);
      const t = trainer.timings;
      for (const k of ['forward', 'backward', 'optimizer', 'queue'] as const) expect(t[k]).toBeGreaterThan(0);
      for (const o of [trainer, model, x]) o.dispose();
    },
  );

  it('refuses a NaN loss without updating', () => {
    const c = config();
    const model = createSquidModel(c, Rng.fromSeed(5));
    const trainer = new SquidTrainer(model, c, Rng.fromSeed(9));
    const x = tf.fill([2, 48, 48, 1], Number.NaN) as tf.Tensor4D;
    expect(() => trainer.step(x, 1, 7)).toThrow(NonFiniteLossError);
    expect(() => trainer.step(x, 1, 7)).toThrow(/discriminator loss is NaN at iteration 7/);
    expect(trainer.optD.step).toBe(0);
    for (const o of [trainer, model, x]) o.dispose();
  });

  it('anneals the generator learning rate per epoch and keeps the discriminator one', () => {
    const c = config();
    const model = createSquidModel(c, Rng.fromSeed(5));
    const trainer = new SquidTrainer(model, c, Rng.fromSeed(9));
    const { lrG, lrD } = trainer.setEpoch(150);
    // tiny: tMax 300, minLrFactor 0.01 → half-way between 1e-4 and 1e-6.
    expect(lrG).toBeCloseTo((1e-4 + 1e-6) / 2, 12);
    expect(lrD).toBe(1e-4);
    trainer.dispose();
    model.dispose();
  });
});

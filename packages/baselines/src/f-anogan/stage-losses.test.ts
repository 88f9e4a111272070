import { initBackend, type StateEntry, tf } from '@squid-ad/backend';
import { checkImages } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { fAnoGanPresetConfig } from './config.js';
import { FAnoGanModel } from './model.js';
import { encoderLoss, generatorLoss } from './stage-losses.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Largest |analytic − central difference| over the picked weights, relative to max(1, |numeric|). */
function gradientErrors(state: StateEntry[], picks: [string, number][], loss: () => tf.Scalar, eps: number) {
  const vars = picks.map(([name]) => state.find((e) => e.name === name)!.variable);
  const { value, grads } = tf.variableGrads(loss, [...new Set(vars)]);
  const analytic = picks.map(([, i], k) => grads[vars[k].name].dataSync()[i]);
  tf.dispose([value, ...Object.values(grads)]);
  return picks.map(([name, i], k) => {
    const v = vars[k];
    const at = (d: number) =>
      tf.tidy(() => {
        const data = v.dataSync().slice();
        const saved = data[i];
        data[i] = saved + d;
        v.assign(tf.tensor(data, v.shape));
        const out = loss().dataSync()[0];
        data[i] = saved;
        v.assign(tf.tensor(data, v.shape));
        return out;
      });
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    return { name: `${name}[${i}]`, analytic: analytic[k], numeric };
  });
}

// Both losses pass through ReLUs: a difference of step 2·EPS straddles the kinks of the units
// that flip in between, which for these 2-channel networks moves a difference by up to ~10 %
// of a small gradient (measured: at most 9e-4 absolute). The tolerance allows that and still
// fails a wrong sign or a missing factor on the larger gradients (0.05–0.4 here).
const EPS = 1e-3;
const TOLERANCE = (numeric: number) => 0.1 * Math.abs(numeric) + 1e-3;

describe('stage losses: gradients against central differences (cpu)', () => {
  const config = { ...fAnoGanPresetConfig('tiny'), dim: 2, zDim: 8 };

  it('the izi_f encoder loss w.r.t. encoder weights', () => {
    const model = new FAnoGanModel(config, 5);
    const x = tf.tidy(() => model.toNet(checkImages(2, config.imageSize, 3)));
    const fx = model.critic.features(x);
    // Batch statistics without moving-statistics updates: the loss is a function of the weights.
    const loss = () => encoderLoss(model, x, fx, 1, { stats: 'batch', update: false }).loss;
    const errors = gradientErrors(
      model.encoder.state(),
      [
        ['Encoder.Output.W', 3],
        ['Encoder.Output.b', 5],
        ['Encoder.Res4.Conv2.Filters', 40],
        ['Encoder.Res2.BN2.gamma', 1],
        ['Encoder.Input.Filters', 7],
      ],
      loss,
      EPS,
    );
    for (const e of errors)
      expect(Math.abs(e.analytic - e.numeric), JSON.stringify(e)).toBeLessThan(TOLERANCE(e.numeric));
    expect(errors.some((e) => Math.abs(e.numeric) > 1e-3)).toBe(true);
    tf.dispose([x, fx]);
    model.dispose();
  });

  it('the generator loss w.r.t. generator weights', () => {
    const model = new FAnoGanModel(config, 6);
    const z = tf.tensor2d(
      Float32Array.from({ length: 2 * 8 }, (_, i) => Math.sin(i + 1)),
      [2, 8],
    );
    const loss = () => generatorLoss(model.generator, model.critic, z, { stats: 'batch', update: false });
    const errors = gradientErrors(
      model.generator.state(),
      [
        ['Generator.Output.Filters', 4],
        ['Generator.Res4.Conv2.Filters', 9],
        ['Generator.Res1.Shortcut.Filters', 30],
        ['Generator.Input.W', 100],
      ],
      loss,
      EPS,
    );
    for (const e of errors)
      expect(Math.abs(e.analytic - e.numeric), JSON.stringify(e)).toBeLessThan(TOLERANCE(e.numeric));
    expect(errors.some((e) => Math.abs(e.numeric) > 1e-3)).toBe(true);
    z.dispose();
    model.dispose();
  });
});

describe('stage losses: values', () => {
  it('the encoder loss is the batch mean of the residual plus κ times the feature term', () => {
    const model = new FAnoGanModel({ ...fAnoGanPresetConfig('tiny'), dim: 2, zDim: 8 }, 7);
    const x = tf.tidy(() => model.toNet(checkImages(2, 48, 5)));
    const fx = model.critic.features(x);
    const t = encoderLoss(model, x, fx, 3, { stats: 'batch', update: false });
    const [loss, img, fts] = [t.loss, t.img, t.fts].map((s) => s.dataSync()[0]);
    expect(loss).toBeCloseTo(img + 3 * fts, 5);
    expect(img).toBeGreaterThan(0);
    expect(fts).toBeGreaterThan(0);
    tf.dispose([x, fx, t.loss, t.img, t.fts]);
    model.dispose();
  });
});

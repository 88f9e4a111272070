import { Rng, type StateEntry, tf } from '@squid-ad/backend';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { describe, expect, it } from 'vitest';
import { Critic } from './critic.js';
import { CriticLayerNorm } from './critic-layer-norm.js';
import { criticLoss, gradientPenalty } from './critic-loss.js';
import { meanPool2 } from './resample.js';
import { tflibConv2d } from './tflib-init.js';

/** Deterministic values in [−1, 1). */
function values(n: number, seed: number): Float32Array {
  const rng = Rng.fromSeed(seed);
  return Float32Array.from({ length: n }, () => rng.uniform(-1, 1));
}

describe.each(BACKEND_VARIANTS)(
  'WGAN-GP critic loss on $backend (native kernels: $nativeKernels)',
  (variant) => {
    it('a linear critic: penalty (‖w‖ − 1)², loss and its weight gradient in closed form', async (ctx) => {
      const unavailable = await startVariant(variant);
      if (unavailable) ctx.skip(unavailable);
      // D(x) = Σ w·x + b: ∇ₓD = w for every x, so the penalty is (‖w‖ − 1)² whatever α.
      // w = [0.5, −1, 2, 0]: ‖w‖ = √5.25 = 2.29129, penalty = 1.66742.
      const wv = [0.5, -1, 2, 0];
      const w = tf.variable(tf.tensor4d(wv, [1, 2, 2, 1]));
      const b = tf.variable(tf.scalar(0.7));
      const critic = (x: tf.Tensor4D) => tf.add(tf.sum(tf.mul(x, w), [1, 2, 3]), b) as tf.Tensor1D;
      const real = tf.tensor4d([1, 2, 3, 4, -1, 0, 0.5, 2], [2, 2, 2, 1]);
      const fake = tf.tensor4d([0, 1, -2, 1, 3, 1, 1, -1], [2, 2, 2, 1]);
      const alpha = tf.tensor1d([0.25, 0.9]);
      const norm = Math.sqrt(5.25);
      // D(real) = 0.5 − 2 + 6 + 0 + 0.7 = 5.2 and −0.5 + 0 + 1 + 0 + 0.7 = 1.2 → mean 3.2;
      // D(fake) = 0 − 1 − 4 + 0 + 0.7 = −4.3 and 1.5 − 1 + 2 + 0 + 0.7 = 3.2 → mean −0.55.
      const penalty = (norm - 1) ** 2;
      const expectedLoss = -0.55 - 3.2 + 10 * penalty;
      const terms = criticLoss(critic, real, fake, alpha, 10);
      expect(terms.penalty.dataSync()[0]).toBeCloseTo(penalty, 5);
      expect(terms.wasserstein.dataSync()[0]).toBeCloseTo(3.75, 5);
      expect(terms.loss.dataSync()[0]).toBeCloseTo(expectedLoss, 4);
      tf.dispose([terms.loss, terms.penalty, terms.wasserstein]);
      // ∂loss/∂w = mean fake − mean real + 10 · 2(‖w‖ − 1)·w/‖w‖: the penalty's part needs the
      // gradient of a gradient.
      const { value, grads } = tf.variableGrads(() => criticLoss(critic, real, fake, alpha, 10).loss, [w, b]);
      const gw = grads[w.name].dataSync();
      const r = [1, 2, 3, 4, -1, 0, 0.5, 2];
      const f = [0, 1, -2, 1, 3, 1, 1, -1];
      for (let i = 0; i < 4; i++) {
        const meanFake = (f[i] + f[i + 4]) / 2;
        const meanReal = (r[i] + r[i + 4]) / 2;
        expect(gw[i]).toBeCloseTo(meanFake - meanReal + (20 * (norm - 1) * wv[i]) / norm, 4);
      }
      // The bias cancels between D(fake) and D(real) and is not in ∇ₓD.
      expect(grads[b.name].dataSync()[0]).toBeCloseTo(0, 6);
      tf.dispose([value, ...Object.values(grads), w, b, real, fake, alpha]);
    });

    it("the penalty's weight gradient through the residual critic equals central differences", async (ctx) => {
      const unavailable = await startVariant(variant);
      if (unavailable) ctx.skip(unavailable);
      // Weights after the critic's last ReLU: moving them flips no unit, so the penalty is smooth
      // in them (upstream of a ReLU it jumps wherever a unit flips sign, and differences across
      // a flip measure the jump, not the gradient). Their gradients still run through the whole
      // backward pass of the critic (every conv's input gradient, the layer norms, the pools).
      const critic = new Critic(2, Rng.fromSeed(4));
      const real = tf.tensor4d(values(2 * 64 * 64, 1), [2, 64, 64, 1]);
      const fake = tf.tensor4d(values(2 * 64 * 64, 2), [2, 64, 64, 1]);
      const alpha = tf.tensor1d([0.3, 0.8]);
      const loss = () => criticLoss((x) => critic.apply(x), real, fake, alpha, 10).loss;
      const checked = checkGradient(
        critic.state(),
        [
          ['Discriminator.Output.W', 40],
          ['Discriminator.Output.W', 200],
          ['Discriminator.Res4.Conv2.Filters', 100],
          ['Discriminator.Res4.Shortcut.Filters', 37],
        ],
        loss,
        1e-2,
      );
      expect(checked.some((g) => Math.abs(g) > 0.05)).toBe(true);
      critic.dispose();
      tf.dispose([real, fake, alpha]);
    });
  },
);

describe('second-order gradients of the building blocks (cpu)', () => {
  it('penalty through conv → layer norm → mean pool → conv, w.r.t. weights before the norm', async () => {
    await startVariant({ backend: 'cpu', nativeKernels: false });
    // No ReLU: the penalty is smooth in every weight, so each block's input-gradient is checked
    // for being differentiable in its own inputs (layer norm's, the pool's, the conv's).
    const rng = Rng.fromSeed(9);
    const conv1 = tflibConv2d(1, 3, 3, { heInit: false, bias: true, rng });
    const norm = new CriticLayerNorm(3);
    const conv2 = tflibConv2d(3, 2, 3, { heInit: true, bias: true, rng });
    tf.tidy(() => {
      norm.scale.assign(tf.tensor1d([0.8, 1.3, -0.6]));
      norm.offset.assign(tf.tensor1d([0.1, -0.2, 0.3]));
    });
    const w = tf.tensor4d(values(2 * 4 * 4 * 2, 5), [2, 4, 4, 2]);
    const critic = (x: tf.Tensor4D) =>
      tf.tidy(() => {
        const h = tf.square(meanPool2(norm.apply(conv1.apply(x))));
        return tf.sum(tf.mul(conv2.apply(h), w), [1, 2, 3]) as tf.Tensor1D;
      });
    const x = tf.tensor4d(values(2 * 8 * 8, 6), [2, 8, 8, 1]);
    const loss = () => gradientPenalty(critic, x);
    const state = [
      ...conv1.state().map((e) => ({ ...e, name: `conv1.${e.name}` })),
      ...norm.state().map((e) => ({ ...e, name: `norm.${e.name}` })),
    ];
    const checked = checkGradient(
      state,
      [
        ['conv1.weight', 4],
        ['conv1.weight', 20],
        ['conv1.bias', 1],
        ['norm.scale', 2],
        ['norm.offset', 0],
      ],
      loss,
      1e-2,
    );
    expect(checked.every((g) => Math.abs(g) > 1e-3)).toBe(true);
    for (const m of [conv1, norm, conv2]) m.dispose();
    tf.dispose([w, x]);
  });

  it("tfjs's own avgPool cannot be differentiated twice (why meanPool2 has its own gradient)", async () => {
    await startVariant({ backend: 'cpu', nativeKernels: false });
    const x = tf.tensor4d(values(16, 3), [1, 4, 4, 1]);
    const w = tf.variable(tf.tensor4d([1, -2, 3, 0.5], [1, 2, 2, 1]));
    const critic = (t: tf.Tensor4D) =>
      tf.sum(
        tf.mul(tf.square(tf.avgPool(tf.mul(t, 2) as tf.Tensor4D, 2, 2, 'valid')), w),
        [1, 2, 3],
      ) as tf.Tensor1D;
    expect(() => tf.variableGrads(() => gradientPenalty(critic, x), [w])).toThrow(/AvgPoolGrad/);
    tf.dispose([x, w]);
  });
});

/**
 * Compares the gradient of `loss` w.r.t. the picked entries (state name, flat index) with
 * central differences of step `eps`; returns the numeric gradients.
 */
function checkGradient(
  state: StateEntry[],
  picks: [string, number][],
  loss: () => tf.Scalar,
  eps: number,
): number[] {
  const vars = picks.map(([name]) => {
    const entry = state.find((e) => e.name === name);
    if (!entry) throw new Error(`no state entry ${name}`);
    return entry.variable;
  });
  const unique = [...new Set(vars)];
  const { value, grads } = tf.variableGrads(loss, unique);
  const analytic = picks.map(([, index], k) => grads[vars[k].name].dataSync()[index]);
  tf.dispose([value, ...Object.values(grads)]);
  return picks.map(([name, index], k) => {
    const v = vars[k];
    const at = (delta: number) =>
      tf.tidy(() => {
        const data = v.dataSync().slice();
        const saved = data[index];
        data[index] = saved + delta;
        v.assign(tf.tensor(data, v.shape));
        const out = loss().dataSync()[0];
        data[index] = saved;
        v.assign(tf.tensor(data, v.shape));
        return out;
      });
    const numeric = (at(eps) - at(-eps)) / (2 * eps);
    expect(Math.abs(analytic[k] - numeric), `${name}[${index}]: ${analytic[k]} vs ${numeric}`).toBeLessThan(
      2e-3 * Math.max(1, Math.abs(numeric)),
    );
    return numeric;
  });
}

describe('gradient penalty', () => {
  it('is zero for a critic of unit slope and grows with the slope', () => {
    const x = tf.tensor4d([1, 2, 3, 4], [1, 2, 2, 1]);
    const unit = gradientPenalty((t) => tf.mul(tf.sum(t, [1, 2, 3]), 0.5) as tf.Tensor1D, x);
    // ∇ = 0.5 everywhere, ‖∇‖ = 0.5·2 = 1.
    expect(unit.dataSync()[0]).toBeCloseTo(0, 6);
    const steep = gradientPenalty((t) => tf.mul(tf.sum(t, [1, 2, 3]), 2) as tf.Tensor1D, x);
    // ‖∇‖ = 4 → (4 − 1)² = 9.
    expect(steep.dataSync()[0]).toBeCloseTo(9, 5);
    tf.dispose([x, unit, steep]);
  });
});

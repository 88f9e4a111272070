import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { klToStandardNormal, reparameterise, standardNormal } from './gaussian-latent.js';
import { gaussianReconTerm, negElbo } from './neg-elbo.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

// Two images of 2×2 pixels, a 3-d latent: small enough to write every sum as a loop.
const B = 2;
const NZ = 3;
const P = 4;
const x = [0.2, -0.4, 0.9, -1, 0.5, 0.5, -0.3, 0.1];
const mu = [0.3, -1.2, 0.05, 0.8, 0.1, -0.6];
const logVar = [-0.5, 0.2, -1.5, 0.4, -0.1, 0.7];
const eps = [1.1, -0.3, 0.7, -1.6, 0.2, 0.9];
// A fixed "decoder" x̂ = tanh(z · W), W [NZ, P].
const W = [0.4, -0.7, 0.2, 1.1, -0.5, 0.3, 0.8, -0.2, 0.6, 0.9, -1.0, 0.1];

/** KL per image by the formula written out: −½ Σ_j (1 + lv − μ² − e^lv). */
function klLoop(m: number[], lv: number[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++) {
    let s = 0;
    for (let j = 0; j < NZ; j++) {
      const i = b * NZ + j;
      s += 1 + lv[i] - m[i] * m[i] - Math.exp(lv[i]);
    }
    out.push(-0.5 * s);
  }
  return out;
}

/** x̂ = tanh(z W) with z = μ + e^{lv/2} ε, in float64. */
function decodeLoop(m: number[], lv: number[]): number[] {
  const out: number[] = [];
  for (let b = 0; b < B; b++)
    for (let p = 0; p < P; p++) {
      let s = 0;
      for (let j = 0; j < NZ; j++) {
        const i = b * NZ + j;
        s += (m[i] + Math.exp(lv[i] / 2) * eps[i]) * W[j * P + p];
      }
      out.push(Math.tanh(s));
    }
  return out;
}

/** Batch mean of the negative ELBO (Σ (x − x̂)² / (2 var) + KL), in float64. */
function lossLoop(m: number[], lv: number[], variance: number): number {
  const xh = decodeLoop(m, lv);
  const kl = klLoop(m, lv);
  let total = 0;
  for (let b = 0; b < B; b++) {
    let r = 0;
    for (let p = 0; p < P; p++) r += (x[b * P + p] - xh[b * P + p]) ** 2;
    total += r / (2 * variance) + kl[b];
  }
  return total / B;
}

const t4 = (v: number[]) => tf.tensor4d(v, [B, 2, 2, 1]);
const t2 = (v: number[]) => tf.tensor2d(v, [B, NZ]);

function lossTf(m: tf.Tensor, lv: tf.Tensor, variance: number): tf.Scalar {
  const z = reparameterise(m, lv, t2(eps));
  const xh = tf
    .tanh(tf.matMul(z as tf.Tensor2D, tf.tensor2d(W, [NZ, P])))
    .reshape([B, 2, 2, 1]) as tf.Tensor4D;
  return tf.mean(negElbo(xh, t4(x), m, lv, variance).total) as tf.Scalar;
}

describe('VAE negative ELBO', () => {
  it('KL to N(0, I) equals the closed form written as a loop', () => {
    const got = Array.from(klToStandardNormal(t2(mu), t2(logVar)).dataSync());
    const want = klLoop(mu, logVar);
    for (let b = 0; b < B; b++) expect(got[b]).toBeCloseTo(want[b], 5);
    // By hand for one entry: μ = 0, σ² = 1 is the prior, KL 0; μ = 1, σ² = 1 gives ½.
    const prior = klToStandardNormal(tf.tensor2d([0, 1], [2, 1]), tf.zeros([2, 1])).dataSync();
    expect(Array.from(prior, (v) => v + 0)).toEqual([0, 0.5]); // + 0: −½·0 is −0
  });

  it('reconstruction term is the per-image SUM of squared error over 2 σ_x², by hand', () => {
    // image 0: errors 1, 0, 0, 0.5 → 1.25; image 1: errors 2 everywhere → 16
    const a = tf.tensor4d([1, 0, 0, 0.5, 2, 2, 2, 2], [2, 2, 2, 1]);
    const zero = tf.zeros([2, 2, 2, 1]) as tf.Tensor4D;
    expect(Array.from(gaussianReconTerm(a, zero, 0.5).dataSync())).toEqual([1.25, 16]);
    expect(Array.from(gaussianReconTerm(a, zero, 1).dataSync())).toEqual([0.625, 8]);
  });

  it('negative ELBO = recon + KL per image, against float64 loops', () => {
    for (const variance of [0.5, 1]) {
      const xh = decodeLoop(mu, logVar);
      const terms = negElbo(t4(xh), t4(x), t2(mu), t2(logVar), variance);
      const kl = klLoop(mu, logVar);
      const total = terms.total.dataSync();
      for (let b = 0; b < B; b++) {
        let r = 0;
        for (let p = 0; p < P; p++) r += (x[b * P + p] - xh[b * P + p]) ** 2;
        expect(terms.recon.dataSync()[b]).toBeCloseTo(r / (2 * variance), 5);
        expect(terms.kl.dataSync()[b]).toBeCloseTo(kl[b], 5);
        expect(total[b]).toBeCloseTo(r / (2 * variance) + kl[b], 5);
      }
      expect(lossTf(t2(mu), t2(logVar), variance).dataSync()[0]).toBeCloseTo(
        lossLoop(mu, logVar, variance),
        5,
      );
    }
  });

  it('reparameterised gradient through μ and log σ² matches central differences (fixed ε)', () => {
    const variance = 0.5;
    const g = tf.grads((m: tf.Tensor, lv: tf.Tensor) => lossTf(m, lv, variance))([t2(mu), t2(logVar)]);
    const [gMu, gLv] = g.map((t) => Array.from(t.dataSync()));
    const h = 1e-5;
    for (const [which, values, grad] of [
      ['mu', mu, gMu],
      ['logVar', logVar, gLv],
    ] as const) {
      for (let i = 0; i < values.length; i++) {
        const up = [...values];
        const down = [...values];
        up[i] += h;
        down[i] -= h;
        const fd =
          which === 'mu'
            ? (lossLoop(up, logVar, variance) - lossLoop(down, logVar, variance)) / (2 * h)
            : (lossLoop(mu, up, variance) - lossLoop(mu, down, variance)) / (2 * h);
        expect(Math.abs(grad[i] - fd), `${which}[${i}]: ${grad[i]} vs ${fd}`).toBeLessThan(
          1e-4 * Math.max(1, Math.abs(fd)),
        );
      }
    }
    // ∂z/∂ log σ² = ½ σ ε: with a loss Σ z the gradient is exactly that.
    const lv = t2(logVar);
    const [dLv] = tf.grads((l: tf.Tensor) => tf.sum(reparameterise(t2(mu), l, t2(eps))))([lv]);
    const got = dLv.dataSync();
    for (let i = 0; i < logVar.length; i++)
      expect(got[i]).toBeCloseTo(0.5 * Math.exp(logVar[i] / 2) * eps[i], 6);
  });

  it('ε comes from the seeded Rng: same seed, same draws; a restored state continues them', () => {
    const a = Rng.fromSeed(7);
    const first = standardNormal([2, 3], a).dataSync();
    const saved = a.getState();
    const next = standardNormal([4], a).dataSync();
    expect(Array.from(standardNormal([2, 3], Rng.fromSeed(7)).dataSync())).toEqual(Array.from(first));
    expect(Array.from(standardNormal([4], Rng.fromSeed(7)).dataSync())).not.toEqual(Array.from(next));
    expect(Array.from(standardNormal([4], Rng.fromState(saved)).dataSync())).toEqual(Array.from(next));
  });
});

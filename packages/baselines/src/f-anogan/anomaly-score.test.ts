import { initBackend, tf } from '@squid-ad/backend';
import { checkImages } from '@squid-ad/model-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { izifScore, izifTerms } from './anomaly-score.js';
import { fAnoGanPresetConfig } from './config.js';
import { FAnoGanModel } from './model.js';
import { RUNNING } from './stage-losses.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** A(x) = mean_p (x − r)² + κ·mean_f (fx − fr)² per image, in plain loops. */
function scoreByLoops(
  x: Float32Array,
  r: Float32Array,
  fx: Float32Array,
  fr: Float32Array,
  b: number,
  kappa: number,
) {
  const p = x.length / b;
  const f = fx.length / b;
  const out: number[] = [];
  for (let i = 0; i < b; i++) {
    let res = 0;
    for (let j = 0; j < p; j++) res += (x[i * p + j] - r[i * p + j]) ** 2;
    let feat = 0;
    for (let j = 0; j < f; j++) feat += (fx[i * f + j] - fr[i * f + j]) ** 2;
    out.push(res / p + (kappa * feat) / f);
  }
  return out;
}

describe('izi_f anomaly score', () => {
  it('is mean squared residual plus κ times mean squared feature residual, per image', () => {
    // By hand: image 0 residuals (1, −1, 0, 2) → 6/4 = 1.5; features (0.5, −0.5) → 0.25;
    // image 1: residuals all 0 → 0; features (3, 1) → 5. κ = 2: scores 2.0 and 10.
    const x = tf.tensor4d([1, 0, 0, 2, 0.5, 0.5, 0.5, 0.5], [2, 2, 2, 1]);
    const r = tf.tensor4d([0, 1, 0, 0, 0.5, 0.5, 0.5, 0.5], [2, 2, 2, 1]);
    const fx = tf.tensor2d([1, 0, 3, 1], [2, 2]);
    const fr = tf.tensor2d([0.5, 0.5, 0, 0], [2, 2]);
    const terms = izifTerms(x, r, fx, fr);
    expect(Array.from(terms.residual.dataSync())).toEqual([1.5, 0]);
    expect(Array.from(terms.feature.dataSync())).toEqual([0.25, 5]);
    const score = izifScore(terms, 2);
    expect(Array.from(score.dataSync())).toEqual([2, 10]);
    tf.dispose([x, r, fx, fr, terms.residual, terms.feature, score]);
  });

  it("infer's raw score equals the loops on the model's own 64 px images and critic features", () => {
    const config = { ...fAnoGanPresetConfig('tiny'), kappa: 0.7 };
    const model = new FAnoGanModel(config, 2);
    const images = checkImages(2, config.imageSize, 4);
    const { recon, raw } = model.infer(images);
    // The same pieces, taken one by one: 48 px → 64 px in [−1, 1], G(E(x)), D's features.
    const [x, r, fx, fr] = tf.tidy(() => {
      const xs = model.toNet(images);
      const rs = model.generator.apply(model.encoder.apply(xs, RUNNING), RUNNING);
      return [xs, rs, model.critic.features(xs), model.critic.features(rs)];
    });
    expect(x.shape).toEqual([2, 64, 64, 1]);
    expect(fx.shape).toEqual([2, 8 * 4 * 16]);
    const expected = scoreByLoops(
      x.dataSync() as Float32Array,
      r.dataSync() as Float32Array,
      fx.dataSync() as Float32Array,
      fr.dataSync() as Float32Array,
      2,
      0.7,
    );
    const got = raw.dataSync();
    for (let i = 0; i < 2; i++) expect(got[i]).toBeCloseTo(expected[i], 5);
    expect(expected[0]).not.toBeCloseTo(expected[1], 3);
    // The reconstruction comes back at 48 px in [0, 1].
    expect(recon.shape).toEqual([2, 48, 48, 1]);
    const rv = recon.dataSync();
    expect(Math.min(...rv)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...rv)).toBeLessThanOrEqual(1);
    tf.dispose([images, recon, raw, x, r, fx, fr]);
    model.dispose();
  });
});

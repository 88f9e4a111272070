import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConvTranspose2d } from './conv-transpose2d.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** PyTorch's ConvTranspose2d by its definition: every input pixel scatters weight · value. */
function reference(
  x: number[][],
  w: number[][],
  stride: number,
  padding: number,
  outputPadding: number,
): number[][] {
  const h = x.length;
  const k = w.length;
  const out = (h - 1) * stride - 2 * padding + k + outputPadding;
  const y = Array.from({ length: out }, () => new Array(out).fill(0));
  for (let i = 0; i < h; i++)
    for (let j = 0; j < h; j++)
      for (let a = 0; a < k; a++)
        for (let b = 0; b < k; b++) {
          const r = i * stride - padding + a;
          const c = j * stride - padding + b;
          if (r >= 0 && r < out && c >= 0 && c < out) y[r][c] += x[i][j] * w[a][b];
        }
  return y;
}

describe('ConvTranspose2d', () => {
  const cases: [number, number, number, number, number][] = [
    // [in side, kernel, stride, padding, output padding]
    [3, 4, 2, 1, 0], // GANomaly's up-sampling block
    [1, 4, 1, 0, 0], // GANomaly's first decoder layer: 1×1 latent → 4×4
    [3, 3, 2, 1, 1], // MemAE's Dconv(3, 2) doubling the side
    [4, 3, 1, 1, 0],
  ];
  it.each(cases)(
    'side %i, kernel %i, stride %i, padding %i, output padding %i: matches the definition',
    (h, k, s, p, op) => {
      const rng = Rng.fromSeed(h * 100 + k * 10 + s);
      const x = Array.from({ length: h }, () =>
        Array.from({ length: h }, () => Math.round(rng.next() * 8) - 4),
      );
      const w = Array.from({ length: k }, () =>
        Array.from({ length: k }, () => Math.round(rng.next() * 6) - 3),
      );
      const conv = new ConvTranspose2d({
        inChannels: 1,
        outChannels: 1,
        kernelSize: k,
        stride: s,
        padding: p,
        outputPadding: op,
        bias: false,
        rng,
      });
      conv.weight.assign(tf.tensor4d(w.flat(), [k, k, 1, 1]));
      const y = conv.apply(tf.tensor4d(x.flat(), [1, h, h, 1]));
      const want = reference(x, w, s, p, op);
      expect(y.shape).toEqual([1, want.length, want.length, 1]);
      expect(Array.from(y.dataSync())).toEqual(want.flat());
      conv.dispose();
    },
  );

  it('sums over input channels and adds the bias per output channel, with PyTorch fan-in bounds', () => {
    const conv = new ConvTranspose2d({
      inChannels: 2,
      outChannels: 3,
      kernelSize: 4,
      stride: 2,
      padding: 1,
      rng: Rng.fromSeed(1),
    });
    const bound = 1 / Math.sqrt(3 * 16);
    expect(Math.max(...Array.from(conv.weight.dataSync()).map(Math.abs))).toBeLessThanOrEqual(bound);
    conv.weight.assign(tf.ones([4, 4, 3, 2]));
    conv.bias!.assign(tf.tensor1d([0, 10, 100]));
    const y = conv.apply(tf.ones([1, 2, 2, 2]) as tf.Tensor4D);
    expect(y.shape).toEqual([1, 4, 4, 3]);
    // Corner pixel (0, 0): only input (0, 0) reaches it, through kernel tap (1, 1); two channels.
    expect(Array.from(y.slice([0, 0, 0, 0], [1, 1, 1, 3]).dataSync())).toEqual([2, 12, 102]);
    conv.dispose();
  });

  it('has gradients that match finite differences', () => {
    const conv = new ConvTranspose2d({
      inChannels: 2,
      outChannels: 2,
      kernelSize: 3,
      stride: 2,
      padding: 1,
      outputPadding: 1,
      rng: Rng.fromSeed(2),
    });
    const x = tf.randomNormal([1, 3, 3, 2], 0, 1, 'float32', 3) as tf.Tensor4D;
    const target = tf.randomNormal([1, 6, 6, 2], 0, 1, 'float32', 4);
    const loss = () => tf.sum(tf.square(tf.sub(conv.apply(x), target))) as tf.Scalar;
    const { grads } = tf.variableGrads(loss, [conv.weight]);
    const g = grads[conv.weight.name].dataSync();
    const w = conv.weight.dataSync().slice();
    const eps = 1e-2;
    for (const idx of [0, 7, 20, 35]) {
      const plus = w.slice();
      plus[idx] += eps;
      conv.weight.assign(tf.tensor(plus, conv.weight.shape));
      const lp = loss().dataSync()[0];
      const minus = w.slice();
      minus[idx] -= eps;
      conv.weight.assign(tf.tensor(minus, conv.weight.shape));
      const lm = loss().dataSync()[0];
      expect(g[idx]).toBeCloseTo((lp - lm) / (2 * eps), 2);
    }
    conv.dispose();
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { MultiheadAttention } from './multihead-attention.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Float64 loop reference of PyTorch's MultiheadAttention with the official packing, weights `[out, in]`. */
function reference(
  q: number[][][],
  k: number[][][],
  inW: number[][], // [3E, E] official
  inB: number[],
  outW: number[][], // [E, E] official
  outB: number[],
  heads: number,
): number[][][] {
  const e = inB.length / 3;
  const hd = e / heads;
  const lin = (x: number[], w: number[][], b: number[], off: number) =>
    Array.from({ length: e }, (_, o) => b[off + o] + x.reduce((a, v, i) => a + v * w[off + o][i], 0));
  return q.map((qr, r) =>
    qr.map((qv) => {
      const qp = lin(qv, inW, inB, 0);
      const ks = k[r].map((kv) => lin(kv, inW, inB, e));
      const vs = k[r].map((kv) => lin(kv, inW, inB, 2 * e));
      const ctx = new Array(e).fill(0);
      for (let h = 0; h < heads; h++) {
        const s = ks.map((kp) => {
          let dot = 0;
          for (let i = h * hd; i < (h + 1) * hd; i++) dot += (qp[i] / Math.sqrt(hd)) * kp[i];
          return dot;
        });
        const mx = Math.max(...s);
        const ex = s.map((v) => Math.exp(v - mx));
        const sum = ex.reduce((a, v) => a + v, 0);
        ex.forEach((p, j) => {
          for (let i = h * hd; i < (h + 1) * hd; i++) ctx[i] += (p / sum) * vs[j][i];
        });
      }
      return Array.from({ length: e }, (_, o) => outB[o] + ctx.reduce((a, v, i) => a + v * outW[o][i], 0));
    }),
  );
}

describe('MultiheadAttention', () => {
  it('matches a float64 loop implementation of PyTorch nn.MultiheadAttention (packed in_proj, 2 heads)', () => {
    const rng = Rng.fromSeed(3);
    const mha = new MultiheadAttention(4, 2, rng);
    // Non-zero biases so that their packing is tested too.
    mha.inProjBias.assign(tf.randomNormal([12], 0, 0.5, 'float32', 1));
    mha.outProj.bias!.assign(tf.randomNormal([4], 0, 0.5, 'float32', 2));
    const q = tf.randomNormal([3, 1, 4], 0, 1, 'float32', 3) as tf.Tensor3D;
    const k = tf.randomNormal([3, 5, 4], 0, 1, 'float32', 4) as tf.Tensor3D;
    const { out, weights } = mha.apply(q, k, k, true);
    const expected = reference(
      q.arraySync(),
      k.arraySync(),
      mha.inProjWeight.arraySync() as number[][],
      Array.from(mha.inProjBias.dataSync()),
      tf.transpose(mha.outProj.weight).arraySync() as number[][],
      Array.from(mha.outProj.bias!.dataSync()),
      2,
    );
    const got = out.arraySync();
    expected.forEach((row, r) => {
      row[0].forEach((v, i) => {
        expect(got[r][0][i]).toBeCloseTo(v, 5);
      });
    });
    expect(weights!.shape).toEqual([3, 1, 5]);
    for (const row of weights!.arraySync()) expect(row[0].reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
    // xavier-uniform in_proj bound √(6 / (E + 3E)), zero biases at construction.
    const fresh = new MultiheadAttention(8, 2, Rng.fromSeed(4));
    const bound = Math.sqrt(6 / 32);
    expect(Math.max(...Array.from(fresh.inProjWeight.dataSync()).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Array.from(fresh.inProjBias.dataSync())).toEqual(new Array(24).fill(0));
    expect(fresh.state().map((e) => [e.name, e.layout])).toEqual([
      ['in_proj_weight', 'raw'],
      ['in_proj_bias', 'raw'],
      ['out_proj.weight', 'linear'],
      ['out_proj.bias', 'raw'],
    ]);
    mha.dispose();
    fresh.dispose();
  });

  // 3 rows: 27 projected rows, one product with the whole packed weight; 8: 72, the sliced one.
  it.each([3, 8])(
    'has the gradients of the plain (slice-based) formulation w.r.t. inputs and every parameter (%i rows)',
    (r) => {
      const mha = new MultiheadAttention(8, 2, Rng.fromSeed(5));
      mha.inProjBias.assign(tf.randomNormal([24], 0, 0.5, 'float32', 5));
      const q = tf.randomNormal([r, 1, 8], 0, 1, 'float32', 6) as tf.Tensor3D;
      const k = tf.randomNormal([r, 4, 8], 0, 1, 'float32', 7) as tf.Tensor3D;
      const v = tf.randomNormal([r, 4, 8], 0, 1, 'float32', 8) as tf.Tensor3D;
      const g = tf.randomNormal([r, 1, 8], 0, 1, 'float32', 9);
      const plain = (qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor, w: tf.Tensor, b: tf.Tensor) => {
        const proj = (x: tf.Tensor, i: number) =>
          tf.add(
            tf.matMul(x.reshape([-1, 8]), w.slice([8 * i, 0], [8, 8]), false, true),
            b.slice([8 * i], [8]),
          );
        const heads = (x: tf.Tensor, l: number) =>
          x
            .reshape([r, l, 2, 4])
            .transpose([0, 2, 1, 3])
            .reshape([2 * r, l, 4]);
        const p = tf.softmax(
          tf.matMul(tf.mul(heads(proj(qq, 0), 1), 0.5), heads(proj(kk, 1), 4), false, true),
        );
        const ctx = tf
          .matMul(p, heads(proj(vv, 2), 4))
          .reshape([r, 2, 1, 4])
          .transpose([0, 2, 1, 3])
          .reshape([r, 1, 8]);
        return tf.sum(tf.mul(mha.outProj.apply(ctx), g));
      };
      // Parameters as variables: compare variable gradients of both formulations.
      const vars = [mha.inProjWeight, mha.inProjBias];
      const a = tf.variableGrads(() => tf.sum(tf.mul(mha.apply(q, k, v).out, g)) as tf.Scalar, vars);
      const b = tf.variableGrads(() => plain(q, k, v, mha.inProjWeight, mha.inProjBias) as tf.Scalar, vars);
      for (const variable of vars) {
        const diff = tf.max(tf.abs(tf.sub(a.grads[variable.name], b.grads[variable.name]))).dataSync()[0];
        expect(diff, variable.name).toBeLessThan(1e-5);
        expect(tf.max(tf.abs(a.grads[variable.name])).dataSync()[0]).toBeGreaterThan(1e-3);
      }
      const gi = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
        tf.sum(tf.mul(mha.apply(qq as tf.Tensor3D, kk as tf.Tensor3D, vv as tf.Tensor3D).out, g)),
      )([q, k, v]);
      const gp = tf.grads((qq: tf.Tensor, kk: tf.Tensor, vv: tf.Tensor) =>
        plain(qq, kk, vv, mha.inProjWeight, mha.inProjBias),
      )([q, k, v]);
      for (let i = 0; i < 3; i++) {
        expect(tf.max(tf.abs(tf.sub(gi[i], gp[i]))).dataSync()[0], `input ${i}`).toBeLessThan(1e-5);
        expect(tf.max(tf.abs(gi[i])).dataSync()[0]).toBeGreaterThan(1e-3);
      }
      mha.dispose();
    },
  );
});

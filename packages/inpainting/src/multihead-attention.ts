import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { Linear } from '@squid-ad/gan-core';

/** Output of {@link MultiheadAttention.apply}. */
// A type alias (not an interface) so that it is a valid tf.tidy result.
export type AttentionResult = {
  /** `[R, Lq, E]` after the output projection. */
  out: tf.Tensor3D;
  /** `[R, Lq, Lk]` attention probabilities averaged over heads (PyTorch's `need_weights`), if asked for. */
  weights?: tf.Tensor3D;
};

/**
 * PyTorch `nn.MultiheadAttention(E, heads)` (no extra biases or zero attention, dropout 0) on
 * batch-first tensors, from matMul/softmax: packed `in_proj` (W_q, W_k, W_v), heads as contiguous
 * slices of E, queries scaled by 1/√(E/heads), then `out_proj`.
 */
export class MultiheadAttention implements Stateful {
  readonly headDim: number;
  /** `[E, 3E]` (official `in_proj_weight` `[3E, E]` transposed). */
  readonly inProjWeight: tf.Variable;
  /** `[3E]` */
  readonly inProjBias: tf.Variable;
  readonly outProj: Linear;

  constructor(
    readonly embedDim: number,
    readonly heads: number,
    rng: Rng,
  ) {
    if (embedDim % heads !== 0)
      throw new Error(`MultiheadAttention: embed dim ${embedDim} not divisible by ${heads} heads`);
    this.headDim = embedDim / heads;
    // PyTorch: xavier_uniform_ on in_proj_weight, zero in_proj_bias and out_proj.bias.
    const bound = Math.sqrt(6 / (embedDim + 3 * embedDim));
    this.inProjWeight = tf.tidy(() =>
      tf.variable(tf.randomUniform([embedDim, 3 * embedDim], -bound, bound, 'float32', rng.tfSeed())),
    );
    this.inProjBias = tf.tidy(() => tf.variable(tf.zeros([3 * embedDim])));
    this.outProj = new Linear(embedDim, embedDim, rng);
    tf.tidy(() => this.outProj.bias!.assign(tf.zeros([embedDim])));
  }

  /** `query [R, Lq, E]`, `key`/`value` `[R, Lk, E]` → `out [R, Lq, E]` (and head-averaged weights if `needWeights`). */
  apply(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D, needWeights = false): AttentionResult {
    return tf.tidy(() =>
      this.attendProjected(
        this.projectIn(query, 'q') as tf.Tensor3D,
        this.projectIn(key, 'k') as tf.Tensor3D,
        this.projectIn(value, 'v') as tf.Tensor3D,
        needWeights,
      ),
    );
  }

  /**
   * The input projection of queries, keys or values: `[..., E]` → `[..., E]`, `x·W + b` (without
   * the bias when `bias` is false, for callers that project before rearranging).
   */
  projectIn(x: tf.Tensor, part: 'q' | 'k' | 'v', bias = true): tf.Tensor {
    const e = this.embedDim;
    const offset = { q: 0, k: e, v: 2 * e }[part];
    return tf.tidy(() => {
      const w = this.inProjWeight.slice([0, offset], [e, e]) as tf.Tensor2D;
      const y = tf.matMul(x.reshape([-1, e]), w);
      return (bias ? tf.add(y, this.inProjBias.slice([offset], [e])) : y).reshape(x.shape);
    });
  }

  /** Attention on already projected `q [R, Lq, E]`, `k`/`v` `[R, Lk, E]`, then the output projection. */
  attendProjected(q: tf.Tensor3D, k: tf.Tensor3D, v: tf.Tensor3D, needWeights = false): AttentionResult {
    const e = this.embedDim;
    const h = this.heads;
    const hd = this.headDim;
    return tf.tidy(() => {
      const [r, lq] = q.shape;
      const lk = k.shape[1];
      // [R, L, E] → [R, L, heads, hd] → [R·heads, L, hd]: head i uses features [i·hd, (i+1)·hd).
      const split = (t: tf.Tensor3D, l: number) =>
        t
          .reshape([r, l, h, hd])
          .transpose([0, 2, 1, 3])
          .reshape([r * h, l, hd]) as tf.Tensor3D;
      const qh = tf.mul(split(q, lq), 1 / Math.sqrt(hd)) as tf.Tensor3D;
      const probs = tf.softmax(tf.matMul(qh, split(k, lk), false, true)); // [R·heads, Lq, Lk]
      const context = tf
        .matMul(probs as tf.Tensor3D, split(v, lk))
        .reshape([r, h, lq, hd])
        .transpose([0, 2, 1, 3])
        .reshape([r, lq, e]);
      const out = this.outProj.apply(context) as tf.Tensor3D;
      if (!needWeights) return { out };
      return { out, weights: tf.mean(probs.reshape([r, h, lq, lk]), 1) as tf.Tensor3D };
    });
  }

  /** `in_proj_weight`, `in_proj_bias`, `out_proj.{weight,bias}` */
  state(): StateEntry[] {
    return [
      { name: 'in_proj_weight', variable: this.inProjWeight, kind: 'parameter', layout: 'linear' },
      { name: 'in_proj_bias', variable: this.inProjBias, kind: 'parameter', layout: 'raw' },
      ...this.outProj.state().map((s) => ({ ...s, name: `out_proj.${s.name}` })),
    ];
  }

  dispose(): void {
    this.inProjWeight.dispose();
    this.inProjBias.dispose();
    this.outProj.dispose();
  }
}

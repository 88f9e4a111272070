import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { Linear } from '@squid-ad/gan-core';

/** Output of {@link MultiheadAttention.apply}. */
export interface AttentionResult {
  /** `[R, Lq, E]` after the output projection. */
  out: tf.Tensor3D;
  /** `[R, Lq, Lk]` attention probabilities averaged over heads (PyTorch's `need_weights`), if asked for. */
  weights?: tf.Tensor3D;
}

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
    this.inProjWeight = tf.variable(
      tf.randomUniform([embedDim, 3 * embedDim], -bound, bound, 'float32', rng.tfSeed()),
    );
    this.inProjBias = tf.variable(tf.zeros([3 * embedDim]));
    this.outProj = new Linear(embedDim, embedDim, rng);
    this.outProj.bias!.assign(tf.zeros([embedDim]));
  }

  /** `query [R, Lq, E]`, `key`/`value` `[R, Lk, E]` → `out [R, Lq, E]` (and head-averaged weights if `needWeights`). */
  apply(query: tf.Tensor3D, key: tf.Tensor3D, value: tf.Tensor3D, needWeights = false): AttentionResult {
    const e = this.embedDim;
    const h = this.heads;
    const hd = this.headDim;
    return tf.tidy(() => {
      const project = (x: tf.Tensor3D, part: number): tf.Tensor => {
        const [r, l] = x.shape;
        const w = this.inProjWeight.slice([0, part * e], [e, e]) as tf.Tensor2D;
        const b = this.inProjBias.slice([part * e], [e]);
        // [R·L, E] → [R, L, heads, hd] → [R·heads, L, hd]
        return tf
          .add(tf.matMul(x.reshape([r * l, e]), w), b)
          .reshape([r, l, h, hd])
          .transpose([0, 2, 1, 3])
          .reshape([r * h, l, hd]);
      };
      const [r, lq] = query.shape;
      const lk = key.shape[1];
      const q = tf.mul(project(query, 0), 1 / Math.sqrt(hd)) as tf.Tensor3D;
      const k = project(key, 1) as tf.Tensor3D;
      const v = project(value, 2) as tf.Tensor3D;
      const probs = tf.softmax(tf.matMul(q, k, false, true)); // [R·heads, Lq, Lk]
      const context = tf
        .matMul(probs as tf.Tensor3D, v)
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

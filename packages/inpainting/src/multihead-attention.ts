import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { Linear } from '@squid-ad/gan-core';

/**
 * Rows `[begin, begin + size)` of a matrix. Same values as `tf.slice`, but the gradient is built
 * by concatenation: tfjs-cpu pads element by element, which costs seconds on a 2048² block.
 */
function rowSlice(x: tf.Tensor2D, begin: number, size: number): tf.Tensor2D {
  const [rows, cols] = x.shape;
  const f = tf.customGrad(((input: tf.Tensor2D) => ({
    value: input.slice([begin, 0], [size, cols]),
    gradFunc: (dy: tf.Tensor) => {
      const parts: tf.Tensor[] = [];
      if (begin > 0) parts.push(tf.zeros([begin, cols]));
      parts.push(dy);
      if (begin + size < rows) parts.push(tf.zeros([rows - begin - size, cols]));
      return parts.length === 1 ? parts[0] : tf.concat(parts, 0);
    },
  })) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor2D;
}

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
  /** `[3E, E]`, the official layout: rows W_q, W_k, W_v, each `[out, in]`. */
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
      tf.variable(tf.randomUniform([3 * embedDim, embedDim], -bound, bound, 'float32', rng.tfSeed())),
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
      const w = rowSlice(this.inProjWeight as tf.Tensor2D, offset, e);
      const y = tf.matMul(x.reshape([-1, e]), w, false, true);
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
      // Kept in the official [3E, E] layout: its row blocks are contiguous, so slicing is cheap.
      { name: 'in_proj_weight', variable: this.inProjWeight, kind: 'parameter', layout: 'raw' },
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

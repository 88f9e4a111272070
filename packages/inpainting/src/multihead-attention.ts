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

/**
 * `concat([xq·W_qᵀ, xk·W_kᵀ, xv·W_vᵀ])` for `W = [W_q; W_k; W_v]` (`[3E, E]`), with a hand-written
 * gradient: dW is the concat of the three blocks' gradients, computed directly.
 */
function packedProjection(xq: tf.Tensor2D, xk: tf.Tensor2D, xv: tf.Tensor2D, w: tf.Tensor2D): tf.Tensor2D {
  const e = w.shape[1];
  const blocks = (m: tf.Tensor2D) => [0, 1, 2].map((i) => m.slice([i * e, 0], [e, e]));
  const f = tf.customGrad(((
    q: tf.Tensor2D,
    k: tf.Tensor2D,
    v: tf.Tensor2D,
    weight: tf.Tensor2D,
    save: tf.GradSaveFunc,
  ) => {
    save([q, k, v, weight]);
    const ws = blocks(weight);
    const value = tf.concat(
      [q, k, v].map((x, i) => tf.matMul(x, ws[i], false, true)),
      0,
    );
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [sq, sk, sv, sw] = saved as tf.Tensor2D[];
        const sizes = [sq.shape[0], sk.shape[0], sv.shape[0]];
        const dys = tf.split(dy, sizes, 0) as tf.Tensor2D[];
        const wb = blocks(sw);
        const inputs = [sq, sk, sv];
        return [
          ...dys.map((d, i) => tf.matMul(d, wb[i])),
          tf.concat(
            dys.map((d, i) => tf.matMul(d, inputs[i], true, false)),
            0,
          ),
        ];
      },
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(xq, xk, xv, w) as tf.Tensor2D;
}

/**
 * Below this many projected rows, the 3× larger product with the whole packed weight is cheaper
 * than slicing the weight: the extra work is 2·rows·E² multiply-adds against 3·E² copied floats.
 */
const FEW_ROWS = 32;

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
    return tf.tidy(() => {
      const { q, k, v } = this.projectIn(query, key, value);
      return this.attendProjected(q as tf.Tensor3D, k as tf.Tensor3D, v as tf.Tensor3D, needWeights);
    });
  }

  /**
   * The packed input projection `x·Wᵀ (+ b)` of queries, keys and values (`[..., E]` each, any
   * leading shape), as one differentiable op: W's gradient is assembled from its three row blocks
   * in one concat (no padded copies to add up). `bias: false` leaves the biases to the caller, for
   * callers that project before rearranging.
   */
  projectIn(
    query: tf.Tensor,
    key: tf.Tensor,
    value: tf.Tensor,
    bias = true,
  ): { q: tf.Tensor; k: tf.Tensor; v: tf.Tensor } {
    const e = this.embedDim;
    return tf.tidy(() => {
      const xs = [query, key, value].map((x) => x.reshape([-1, e]) as tf.Tensor2D);
      const counts = xs.map((x) => x.shape[0]);
      const rows = counts[0] + counts[1] + counts[2];
      // Few rows (scoring one image): one product with the whole packed weight, then each input's
      // own column block, costs less than copying W_q, W_k and W_v out of it (3·E² floats).
      const whole = rows < FEW_ROWS;
      const packed = whole
        ? tf.matMul(tf.concat(xs, 0), this.inProjWeight as tf.Tensor2D, false, true) // [rows, 3E]
        : packedProjection(xs[0], xs[1], xs[2], this.inProjWeight as tf.Tensor2D); // [rows, E]
      const [q, k, v] = [query, key, value].map((x, i) => {
        const begin = counts.slice(0, i).reduce((a, b) => a + b, 0);
        let y: tf.Tensor = whole
          ? packed.slice([begin, i * e], [counts[i], e])
          : rowSlice(packed as tf.Tensor2D, begin, counts[i]);
        if (bias) y = tf.add(y, this.inProjBias.slice([i * e], [e]));
        return y.reshape(x.shape);
      });
      return { q, k, v };
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

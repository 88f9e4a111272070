import { tf } from '@squid-ad/backend';

/** The ε of the official `hard_shrink_relu` and of PyTorch's `F.normalize`. */
const EPS = 1e-12;

/**
 * `relu(x − λ)·x / (|x − λ| + 1e-12)`: entries above λ keep (almost exactly) their value, the rest
 * become 0. λ may be a number or a tensor broadcast against `x` (e.g. a per-row threshold `[R, 1]`).
 */
export function hardShrinkRelu(x: tf.Tensor, lambda: tf.Tensor | number): tf.Tensor {
  return tf.tidy(() => {
    const d = tf.sub(x, lambda);
    return tf.div(tf.mul(tf.relu(d), x), tf.add(tf.abs(d), EPS));
  });
}

/** Row-wise L1 normalisation `x / max(Σ|x|, 1e-12)`, as PyTorch's `F.normalize(x, p=1, dim=-1)`. */
export function l1Normalize<T extends tf.Tensor>(x: T): T {
  return tf.tidy(() => tf.div(x, tf.maximum(tf.sum(tf.abs(x), -1, true), EPS)) as T);
}

/** How a shrink setting is interpreted (mirrors the official Python `type(shrink_thres)` switch). */
export type ShrinkMode = 'none' | 'top-k' | 'hard';

/** `0` → no shrinkage, a positive integer → Gumbel top-k, any other positive number → hard shrinkage. */
export function shrinkMode(shrink: number): ShrinkMode {
  if (!Number.isFinite(shrink) || shrink < 0)
    throw new Error(`shrink must be a finite number ≥ 0, got ${shrink}`);
  if (shrink === 0) return 'none';
  return Number.isInteger(shrink) ? 'top-k' : 'hard';
}

// One custom-gradient function per k, so repeated calls do not rebuild closures.
const topKCache = new Map<number, (logits: tf.Tensor2D) => tf.Tensor2D>();

function topKStraightThrough(k: number): (logits: tf.Tensor2D) => tf.Tensor2D {
  let fn = topKCache.get(k);
  if (!fn) {
    const forward = (logits: tf.Tensor, save: tf.GradSaveFunc) => {
      const y = tf.softmax(logits);
      // k-th largest probability per row; only entries strictly above it survive (k − 1 of them).
      const t = tf.topk(y, k, true).values.slice([0, k - 1], [-1, 1]);
      const hard = l1Normalize(hardShrinkRelu(y, t));
      save([y]);
      return {
        value: hard,
        // Straight-through: the gradient of the dense softmax y, whatever the forward value.
        gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
          const [ys] = saved;
          return tf.mul(ys, tf.sub(dy, tf.sum(tf.mul(dy, ys), -1, true)));
        },
      };
    };
    // tfjs types the custom function's arguments as a union of tensors and the save function.
    fn = tf.customGrad(forward as unknown as Parameters<typeof tf.customGrad>[0]) as (
      l: tf.Tensor2D,
    ) => tf.Tensor2D;
    topKCache.set(k, fn);
  }
  return fn;
}

/**
 * SQUID's sparse memory addressing on logits `[R, slots]` (`w = q·Mᵀ`):
 * - integer `shrink = k` ("Gumbel shrinkage", deterministic): `y = softmax(w)`, keep the entries
 *   strictly above the k-th largest `y` (k − 1 survivors), L1-normalise; straight-through
 *   gradient (forward = shrunk weights, backward = softmax gradient);
 * - non-integer `shrink = λ`: hard shrinkage `relu(w − λ)·w/(|w − λ| + ε)` of the raw logits, then
 *   L1-normalise, differentiated as written;
 * - `0`: the logits unchanged (the official code's fallback).
 */
export function gumbelShrink(logits: tf.Tensor2D, shrink: number): tf.Tensor2D {
  if (logits.rank !== 2)
    throw new Error(`gumbelShrink expects logits [R, slots], got shape [${logits.shape}]`);
  const mode = shrinkMode(shrink);
  if (mode === 'none') return logits.clone();
  if (mode === 'hard') return tf.tidy(() => l1Normalize(hardShrinkRelu(logits, shrink)) as tf.Tensor2D);
  const slots = logits.shape[1];
  if (shrink > slots)
    throw new Error(`gumbelShrink: top-k with k = ${shrink} needs at least k slots, got ${slots}`);
  return topKStraightThrough(shrink)(logits);
}

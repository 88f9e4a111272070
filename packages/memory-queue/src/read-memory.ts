import { tf } from '@squid-ad/backend';
import type { Addressing } from './config.js';
import { gumbelShrink } from './gumbel-shrink.js';

/** Output of a memory read. */
// A type alias (not an interface) so that it is a valid tf.tidy result.
export type MemoryRead<T extends tf.Tensor = tf.Tensor> = {
  /** Weighted sum of memory slots, shaped like the query: `[..., R, dim]`. */
  out: T;
  /** Sparse addressing weights `[..., R, slots]`. */
  attention: T;
};

/**
 * Reads a memory: `w = shrink(q·Mᵀ)` (or `softmax(q·Mᵀ)` with `shrink = 'softmax'`), `out = w·M`. Works on one memory (`query [R, dim]`,
 * `memory [slots, dim]`) or a stack of independent memories (`query [N, R, dim]`,
 * `memory [N, slots, dim]`), which is how the space-aware blocks read all positions in one go.
 */
export function readMemory<T extends tf.Tensor2D | tf.Tensor3D>(
  query: T,
  memory: T,
  shrink: Addressing,
): MemoryRead<T> {
  if (query.rank !== memory.rank || (query.rank !== 2 && query.rank !== 3)) {
    throw new Error(
      `readMemory: query [${query.shape}] and memory [${memory.shape}] must both be 2-D or both 3-D`,
    );
  }
  const dim = memory.shape[memory.rank - 1];
  if (query.shape[query.rank - 1] !== dim) {
    throw new Error(
      `readMemory: query feature size ${query.shape[query.rank - 1]} ≠ memory slot size ${dim}`,
    );
  }
  if (query.rank === 3 && query.shape[0] !== memory.shape[0]) {
    throw new Error(`readMemory: ${query.shape[0]} query groups for ${memory.shape[0]} memories`);
  }
  return tf.tidy(() => {
    const logits = tf.matMul(query, memory, false, true);
    const slots = memory.shape[memory.rank - 2];
    const rows = logits.reshape([-1, slots]) as tf.Tensor2D;
    const attention = (shrink === 'softmax' ? tf.softmax(rows) : gumbelShrink(rows, shrink)).reshape(
      logits.shape,
    );
    const out = tf.matMul(attention as T, memory);
    return { out: out as T, attention: attention as T };
  });
}

import { type Rng, type StateEntry, tf } from '@squid-ad/backend';
import { gumbelShrink } from './gumbel-shrink.js';
import { MemoryMatrix } from './memory-matrix.js';
import type { MemoryRead } from './read-memory.js';

/** `count` independent learned memories (one per patch position or window), read together. */
export class MemoryBank {
  readonly memories: MemoryMatrix[];

  constructor(
    count: number,
    slots: number,
    dim: number,
    readonly shrink: number,
    rng: Rng,
  ) {
    this.memories = Array.from({ length: count }, () => new MemoryMatrix({ slots, dim, shrink, rng }));
  }

  /**
   * `queries [count, R, dim]` (memory r reads row r) → `out [count, R, dim]`, `attention [count, R, slots]`.
   * Each memory is read where it lives: stacking them into one `[count, slots, dim]` tensor for a
   * batched matMul would copy every memory on each forward and keep the copy, and its gradient,
   * for backprop (about 1.2 GB at batch 16 for the DigitAnatomy decoder memories).
   */
  read(queries: tf.Tensor3D): MemoryRead<tf.Tensor3D> {
    const [count, rows] = queries.shape;
    if (count !== this.memories.length) {
      throw new Error(`MemoryBank.read: ${count} query groups for ${this.memories.length} memories`);
    }
    return tf.tidy(() => {
      const qs = tf.unstack(queries) as tf.Tensor2D[];
      const mems = this.memories.map((m) => m.memory as tf.Tensor2D);
      const logits = tf.concat(qs.map((q, r) => tf.matMul(q, mems[r], false, true))); // [count·R, slots]
      const weights = gumbelShrink(logits as tf.Tensor2D, this.shrink);
      const perMemory = tf.split(weights, count) as tf.Tensor2D[];
      const out = tf.stack(perMemory.map((w, r) => tf.matMul(w, mems[r]))) as tf.Tensor3D;
      return { out, attention: weights.reshape([count, rows, -1]) as tf.Tensor3D };
    });
  }

  /** `memory.{r}.memMatrix` */
  state(): StateEntry[] {
    return this.memories.flatMap((m, r) => m.state().map((e) => ({ ...e, name: `memory.${r}.${e.name}` })));
  }

  dispose(): void {
    for (const m of this.memories) m.dispose();
  }
}

import { type Rng, type StateEntry, tf } from '@squid-ad/backend';
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
    const count = queries.shape[0];
    if (count !== this.memories.length) {
      throw new Error(`MemoryBank.read: ${count} query groups for ${this.memories.length} memories`);
    }
    return tf.tidy(() => {
      // The shrinkage works row by row, so reading each memory on its own gives the same values.
      const reads = tf.unstack(queries).map((q, r) => this.memories[r].read(q as tf.Tensor2D));
      return {
        out: tf.stack(reads.map((m) => m.out)) as tf.Tensor3D,
        attention: tf.stack(reads.map((m) => m.attention)) as tf.Tensor3D,
      };
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

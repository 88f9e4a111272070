import { type Rng, type StateEntry, tf } from '@squid-ad/backend';
import type { Addressing } from './config.js';
import { MemoryMatrix } from './memory-matrix.js';
import type { MemoryRead } from './read-memory.js';

/**
 * `count` independent learned memories (one per patch position or window), read together. A bank
 * of one memory serves every query group (the shared-memory ablation).
 */
export class MemoryBank {
  readonly memories: MemoryMatrix[];

  constructor(
    count: number,
    slots: number,
    dim: number,
    readonly shrink: Addressing,
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
    if (this.memories.length === 1 && count > 1) {
      // One memory for all groups: read every query of every group as rows of one read.
      const [, r, dim] = queries.shape;
      return tf.tidy(() => {
        const m = this.memories[0].read(queries.reshape([count * r, dim]) as tf.Tensor2D);
        return {
          out: m.out.reshape([count, r, dim]) as tf.Tensor3D,
          attention: m.attention.reshape([count, r, -1]) as tf.Tensor3D,
        };
      });
    }
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

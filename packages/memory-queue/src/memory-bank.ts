import { type Rng, type StateEntry, tf } from '@squid-ad/backend';
import { MemoryMatrix } from './memory-matrix.js';
import { type MemoryRead, readMemory } from './read-memory.js';

/** `count` independent learned memories read in one batched pass (one per patch position or window). */
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

  /** `queries [count, R, dim]` (memory r reads row r) → `out [count, R, dim]`, `attention [count, R, slots]`. */
  read(queries: tf.Tensor3D): MemoryRead<tf.Tensor3D> {
    return tf.tidy(() => {
      const stacked = tf.stack(this.memories.map((m) => m.memory)) as tf.Tensor3D;
      return readMemory(queries, stacked, this.shrink);
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

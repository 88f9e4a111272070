import { type Rng, type StateEntry, type Stateful, stopGradient, tf } from '@squid-ad/backend';
import type { z } from 'zod';
import { type Addressing, MemoryConfig, parseConfig } from './config.js';
import { memoryInit } from './memory-init.js';
import { type MemoryRead, readMemory } from './read-memory.js';

export type MemoryQueueOptions = z.input<typeof MemoryConfig> & { rng: Rng };

/**
 * A memory of real features (SQUID's in-painting memory): a `slots × dim` buffer that is never
 * trained, read by sparse addressing and written as a ring buffer. The write pointer is part of
 * its state (the official model forgets it on save).
 */
export class MemoryQueue implements Stateful {
  readonly slots: number;
  readonly dim: number;
  readonly shrink: Addressing;
  /** `[slots, dim]` buffer (not trainable). */
  readonly memory: tf.Variable;
  /** int32 scalar: next slot to write. */
  readonly ptr: tf.Variable;

  constructor(options: MemoryQueueOptions) {
    const c = parseConfig(MemoryConfig, options, 'MemoryQueue');
    this.slots = c.slots;
    this.dim = c.dim;
    this.shrink = c.shrink;
    this.memory = tf.tidy(() => tf.variable(memoryInit(c.slots, c.dim, options.rng), false));
    this.ptr = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false));
  }

  /** Next slot the ring buffer writes. */
  get pointer(): number {
    return this.ptr.dataSync()[0];
  }

  /** `query [R, dim]` → `out [R, dim]`, `attention [R, slots]`; no gradient reaches the buffer. */
  read(query: tf.Tensor2D): MemoryRead<tf.Tensor2D> {
    return tf.tidy(() => readMemory(query, stopGradient(this.memory as tf.Tensor2D), this.shrink));
  }

  /**
   * Writes `features [n, dim]` (detached copies) at the pointer, wrapping around; the pointer
   * advances by n mod slots. Call after the optimizer step, as the official training loop does.
   */
  enqueue(features: tf.Tensor2D): void {
    if (features.rank !== 2 || features.shape[1] !== this.dim) {
      throw new Error(`MemoryQueue.enqueue: expected features [n, ${this.dim}], got [${features.shape}]`);
    }
    const n = features.shape[0];
    if (n === 0) return;
    const ptr = this.pointer;
    // With n > slots, only the last `slots` features survive the wrap-around.
    const m = Math.min(n, this.slots);
    const first = n - m;
    // Source of every slot after the write: the incoming row j, or the old slot itself.
    const source: { fromTail: boolean; index: number }[] = Array.from({ length: this.slots }, (_, s) => ({
      fromTail: false,
      index: s,
    }));
    for (let j = 0; j < m; j++) source[(ptr + first + j) % this.slots] = { fromTail: true, index: j };
    // Contiguous runs of the same source become slices; one concat rebuilds the buffer.
    const runs: { fromTail: boolean; begin: number; size: number }[] = [];
    for (const { fromTail, index } of source) {
      const last = runs[runs.length - 1];
      if (last && last.fromTail === fromTail && last.begin + last.size === index) last.size++;
      else runs.push({ fromTail, begin: index, size: 1 });
    }
    tf.tidy(() => {
      const tail = stopGradient(features.slice([first, 0], [m, this.dim]));
      const pieces = runs.map((r) =>
        (r.fromTail ? tail : this.memory).slice([r.begin, 0], [r.size, this.dim]),
      );
      this.memory.assign(pieces.length === 1 ? pieces[0] : tf.concat(pieces, 0));
      this.ptr.assign(tf.scalar((ptr + n) % this.slots, 'int32'));
    });
  }

  /** `memMatrix` (official buffer) and `ptr` (ours only). */
  state(): StateEntry[] {
    return [
      { name: 'memMatrix', variable: this.memory, kind: 'buffer', layout: 'raw' },
      { name: 'ptr', variable: this.ptr, kind: 'buffer', layout: 'raw', official: false },
    ];
  }

  dispose(): void {
    this.memory.dispose();
    this.ptr.dispose();
  }
}

import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { z } from 'zod';
import { type Addressing, MemoryConfig, parseConfig } from './config.js';
import { memoryInit } from './memory-init.js';
import { type MemoryRead, readMemory } from './read-memory.js';

export type MemoryMatrixOptions = z.input<typeof MemoryConfig> & { rng: Rng };

/** A learned memory (the official `Memory` module): same read rule as the queue, `M` is a trainable parameter. */
export class MemoryMatrix implements Stateful {
  readonly slots: number;
  readonly dim: number;
  readonly shrink: Addressing;
  /** `[slots, dim]` trainable parameter. */
  readonly memory: tf.Variable;

  constructor(options: MemoryMatrixOptions) {
    const c = parseConfig(MemoryConfig, options, 'MemoryMatrix');
    this.slots = c.slots;
    this.dim = c.dim;
    this.shrink = c.shrink;
    this.memory = tf.tidy(() => tf.variable(memoryInit(c.slots, c.dim, options.rng), true));
  }

  /** `query [R, dim]` → `out [R, dim]`, `attention [R, slots]`. */
  read(query: tf.Tensor2D): MemoryRead<tf.Tensor2D> {
    return readMemory(query, this.memory as tf.Tensor2D, this.shrink);
  }

  state(): StateEntry[] {
    return [{ name: 'memMatrix', variable: this.memory, kind: 'parameter', layout: 'raw' }];
  }

  dispose(): void {
    this.memory.dispose();
  }
}

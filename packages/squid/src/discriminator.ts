import type { Rng, tf } from '@squid-ad/backend';
import { Discriminator, discriminatorSize } from '@squid-ad/gan-core';
import type { SquidConfig } from './config.js';

export interface DiscriminatorForwardOptions {
  /** Training: BatchNorm batch statistics and running-statistics update. */
  training: boolean;
  /**
   * Eval normalisation: `running` (textbook eval mode, default) or `per-image` (each image its
   * own BatchNorm batch — what the official scoring computed, never calling `.eval()`).
   */
  norm?: 'running' | 'per-image';
}

/** The SQUID discriminator (official `SimpleDiscriminator`); logits `[B, 1]`, higher = more real. */
export class SquidDiscriminator extends Discriminator {
  constructor(config: SquidConfig, rng: Rng) {
    const size = config.discriminator.size ?? discriminatorSize(config.model.imageSize);
    super({ size, inChannels: config.model.inChannels, rng });
  }

  /** x `[B, S, S, C]` in [0, 1] → logits `[B, 1]`. */
  forward(x: tf.Tensor4D, opts: DiscriminatorForwardOptions): tf.Tensor2D {
    const stats = opts.training ? 'batch' : (opts.norm ?? 'running') === 'running' ? 'running' : 'per-sample';
    return this.apply(x, { stats });
  }
}

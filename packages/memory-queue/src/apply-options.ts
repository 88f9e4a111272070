import { type Rng, tf } from '@squid-ad/backend';
import type { MaskSource } from './bernoulli-mask.js';

/** Options of a block's forward pass. */
export interface BlockApplyOptions {
  /** Training mode: Bernoulli-masked mix with the input (and, for queues, recording features). */
  training: boolean;
  /** Source of the training-mode random masks; required when `training` is true. */
  rng?: Rng;
  /** Training: masks to use instead of drawing them from `rng` (replaying recorded masks). */
  masks?: MaskSource;
  /**
   * When given, the block stores intermediate tensors under their official names (relative to
   * the block, in the official PyTorch layout) for parity checks. The caller owns and disposes them.
   */
  capture?: Map<string, tf.Tensor>;
}

/** The Rng a training forward needs, or a clear error naming the block. */
export function trainingRng(what: string, options: BlockApplyOptions): Rng {
  if (!options.rng) throw new Error(`${what}.apply: training mode needs options.rng for its Bernoulli masks`);
  return options.rng;
}

/** Stores a kept tensor in the capture map (replacing and disposing an older one), if capturing. */
export function capture(options: BlockApplyOptions, name: string, make: () => tf.Tensor): void {
  if (!options.capture) return;
  options.capture.get(name)?.dispose();
  options.capture.set(name, tf.keep(make()));
}

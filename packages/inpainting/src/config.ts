import { Addressing } from '@squid-ad/memory-queue';
import { z } from 'zod';

/** Settings of the in-painting block (official `InpaintBlock`). */
export const InpaintConfig = z.object({
  /** Channels C of the bottleneck `[B·P², h, w, C]`; the block works on C/4 channels inside. */
  channels: z.number().int().min(4),
  /** Patches per side P (P² patch positions, one memory queue each). */
  numPatch: z.number().int().positive(),
  /** Bottleneck height h. */
  height: z.number().int().positive(),
  /** Bottleneck width w. */
  width: z.number().int().positive(),
  /** Memory queue slots per position. */
  slots: z.number().int().positive(),
  /** Positive integer k → Gumbel top-k; non-integer λ → hard shrinkage; 0 → none; `'softmax'` → dense softmax. */
  shrink: Addressing.default(5),
  /**
   * The memory read by each position: `queue` (official: real features, written after each
   * generator step, never trained) or `matrix` (a learned memory, trained by backprop, never written).
   */
  memory: z.enum(['queue', 'matrix']).default('queue'),
  /** One memory read and written by every patch position instead of one per position. */
  shared: z.boolean().default(false),
  /**
   * How the block input reaches the output: `masked` (official: in training, per location the
   * input with probability 1 − ratio, else the in-painted value; eval: in-painted only),
   * `residual` (in-painted + input, training and eval, no mask) or `off` (in-painted only).
   */
  shortcut: z.enum(['masked', 'residual', 'off']).default('masked'),
  /** Attention heads; must divide the memory vector size (C/4)·h·w. */
  heads: z.number().int().positive().default(8),
  /** Training only: probability of keeping the in-painted value at a location (else the input). */
  ratio: z.number().min(0).max(1).default(0.95),
  /** Dropout rate inside the feed-forward layer (training only). */
  drop: z.number().min(0).max(1).default(0),
});
export type InpaintConfig = z.infer<typeof InpaintConfig>;

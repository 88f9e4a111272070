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
  /** Positive integer k → Gumbel top-k; non-integer λ → hard shrinkage; 0 → none. */
  shrink: z.number().nonnegative().default(5),
  /** Attention heads; must divide the memory vector size (C/4)·h·w. */
  heads: z.number().int().positive().default(8),
  /** Training only: probability of keeping the in-painted value at a location (else the input). */
  ratio: z.number().min(0).max(1).default(0.95),
  /** Dropout rate inside the feed-forward layer (training only). */
  drop: z.number().min(0).max(1).default(0),
});
export type InpaintConfig = z.infer<typeof InpaintConfig>;

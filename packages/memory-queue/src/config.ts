import { z } from 'zod';

/**
 * How a memory is addressed: a number is the official shrink setting (positive integer k →
 * Gumbel top-k, non-integer λ → hard shrinkage, 0 → raw logits); `'softmax'` is dense softmax
 * addressing without any shrinkage (SQUID's ablation of the Gumbel shrinkage).
 */
export const Addressing = z.union([z.number().nonnegative(), z.literal('softmax')]);
export type Addressing = z.infer<typeof Addressing>;

/** Shared settings of every memory: `slots × dim` entries read with a shrink rule. */
export const MemoryConfig = z.object({
  /** Number of memory slots M. */
  slots: z.number().int().positive(),
  /** Size of one slot (= size of a query vector). */
  dim: z.number().int().positive(),
  /** Positive integer k → Gumbel top-k; non-integer λ → hard shrinkage; 0 → none; `'softmax'` → dense softmax. Default 5 (official presets). */
  shrink: Addressing.default(5),
});
export type MemoryConfig = z.infer<typeof MemoryConfig>;

/** Settings of the space-aware decoder memory blocks. */
export const MemoryBlockConfig = z.object({
  /** Number of memories: patch positions (V3) or windows per row (V1); a square for V1. */
  numMemory: z.number().int().positive(),
  slots: z.number().int().positive(),
  /** Channels C of the block input `[rows, h, w, C]`. */
  channels: z.number().int().positive(),
  height: z.number().int().positive(),
  width: z.number().int().positive(),
  shrink: Addressing.default(5),
  /**
   * One memory read by every patch or window instead of one per position (SQUID's ablation of the
   * space-aware memory); `numMemory` still fixes how the input is cut into queries.
   */
  shared: z.boolean().default(false),
  /** Training only: probability of keeping the memory output at a location (else the input). */
  ratio: z.number().min(0).max(1).default(0.95),
});
export type MemoryBlockConfig = z.infer<typeof MemoryBlockConfig>;

/** Parses `options` with `schema`, turning zod's report into one readable error naming `what`. */
export function parseConfig<S extends z.ZodType>(schema: S, options: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(options);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`)
      .join('; ');
    throw new Error(`${what}: invalid options: ${issues}`);
  }
  return result.data;
}

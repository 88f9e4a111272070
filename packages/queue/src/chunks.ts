/** Splits `items` into consecutive chunks of `size` (the last may be shorter), keeping order. */
export function chunk<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`chunk size must be a positive integer, got ${size}`);
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The job id of chunk `index`: zero-padded so ids sort in input order (BullMQ refuses all-digit ids). */
export const chunkId = (index: number): string => `chunk-${String(index).padStart(6, '0')}`;

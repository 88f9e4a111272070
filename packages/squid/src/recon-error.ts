/** Default cell side of the worst-cell error: DigitAnatomy's digit cells (96 px → 3×3; 128 px → 4×4). */
export const DEFAULT_RECON_CELL = 32;

/** Reconstruction errors of one image; higher = more anomalous. */
export interface ReconError {
  /** mean |recon − x| over the image */
  l1: number;
  /** largest mean |recon − x| over the cells of the grid */
  worstCell: number;
}

/**
 * Start of each cell along one side, plus `size` at the end: floor(size / cell) cells (at least
 * one), the last of which absorbs the remainder (100 px, cell 32 → 0, 32, 64, 100).
 */
export function cellEdges(size: number, cell: number): number[] {
  const n = Math.max(1, Math.floor(size / cell));
  return [...Array.from({ length: n }, (_, i) => i * cell), size];
}

/**
 * Mean |recon − x| over the `[S, S]` image (row-major) and its worst cell: the image is cut into
 * floor(S / cell)² non-overlapping cells, the last row and column of cells absorbing the
 * remainder when S is not a multiple of `cell` (a single cell when S < cell).
 */
export function reconError(
  input: ArrayLike<number>,
  recon: ArrayLike<number>,
  size: number,
  cell: number = DEFAULT_RECON_CELL,
): ReconError {
  if (!Number.isInteger(size) || size < 1)
    throw new Error(`reconError: image side must be a positive integer, got ${size}`);
  if (!Number.isInteger(cell) || cell < 1)
    throw new Error(`reconError: cell side must be a positive integer, got ${cell}`);
  if (input.length !== size * size || recon.length !== size * size) {
    throw new Error(
      `reconError: input and reconstruction must have ${size}×${size} = ${size * size} values, got ${input.length} and ${recon.length}`,
    );
  }
  const edges = cellEdges(size, cell);
  const n = edges.length - 1;
  // cell column of each pixel column (the same map serves rows: the grid is square)
  const cellOf = new Int32Array(size);
  for (let k = 0; k < n; k++) cellOf.fill(k, edges[k], edges[k + 1]);
  const sums = new Float64Array(n * n);
  let total = 0;
  for (let y = 0; y < size; y++) {
    const rowBase = cellOf[y] * n;
    for (let x = 0; x < size; x++) {
      const i = y * size + x;
      const e = Math.abs(recon[i] - input[i]);
      sums[rowBase + cellOf[x]] += e;
      total += e;
    }
  }
  let worstCell = Number.NEGATIVE_INFINITY;
  for (let cy = 0; cy < n; cy++) {
    for (let cx = 0; cx < n; cx++) {
      const area = (edges[cy + 1] - edges[cy]) * (edges[cx + 1] - edges[cx]);
      worstCell = Math.max(worstCell, sums[cy * n + cx] / area);
    }
  }
  return { l1: total / (size * size), worstCell };
}

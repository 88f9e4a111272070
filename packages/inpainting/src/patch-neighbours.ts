import { tf } from '@squid-ad/backend';

/** The 8 neighbour offsets (dy, dx) of a 3×3 neighbourhood in the official (unfold) order, centre removed. */
export const NEIGHBOUR_OFFSETS: readonly (readonly [number, number])[] = [
  [-1, -1],
  [-1, 0],
  [-1, 1],
  [0, -1],
  [0, 1],
  [1, -1],
  [1, 0],
  [1, 1],
];

/**
 * `[8·n, n]` 0/1 matrix: row `8·i + j` selects patch i's j-th neighbour on the `P×P` grid (a zero
 * row where that neighbour is outside the grid).
 */
export function neighbourSelection(numPatch: number): tf.Tensor2D {
  const n = numPatch * numPatch;
  const k = NEIGHBOUR_OFFSETS.length;
  const s = new Float32Array(k * n * n);
  for (let i = 0; i < n; i++) {
    const [r, c] = [Math.floor(i / numPatch), i % numPatch];
    NEIGHBOUR_OFFSETS.forEach(([dy, dx], j) => {
      const [rr, cc] = [r + dy, c + dx];
      if (rr >= 0 && rr < numPatch && cc >= 0 && cc < numPatch) s[(i * k + j) * n + rr * numPatch + cc] = 1;
    });
  }
  return tf.tensor2d(s, [k * n, n]);
}

/**
 * Each patch's 8 neighbours on the `P×P` patch grid: `[B, P², D]` (patch n = r·P + c) →
 * `[B·P², 8, D]`. Out-of-grid neighbours are zero vectors (zero padding, not masked).
 */
export function patchNeighbours(x: tf.Tensor3D, numPatch: number): tf.Tensor3D {
  const [b, n, d] = x.shape;
  if (n !== numPatch * numPatch)
    throw new Error(`patchNeighbours: ${n} patches do not form a ${numPatch}² grid`);
  return tf.tidy(() => {
    // A 0/1 selection matmul is exact (x·1 + 0 = x) and, unlike strided slices, fast on every
    // backend in both directions.
    const select = tf.tile(neighbourSelection(numPatch).expandDims(0), [b, 1, 1]) as tf.Tensor3D;
    return tf.matMul(select, x).reshape([b * n, NEIGHBOUR_OFFSETS.length, d]) as tf.Tensor3D;
  });
}

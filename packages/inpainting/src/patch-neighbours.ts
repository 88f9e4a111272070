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
 * Each patch's 8 neighbours on the `P×P` patch grid: `[B, P², D]` (patch n = r·P + c) →
 * `[B·P², 8, D]`. Out-of-grid neighbours are zero vectors (zero padding, not masked).
 */
export function patchNeighbours(x: tf.Tensor3D, numPatch: number): tf.Tensor3D {
  const [b, n, d] = x.shape;
  if (n !== numPatch * numPatch)
    throw new Error(`patchNeighbours: ${n} patches do not form a ${numPatch}² grid`);
  return tf.tidy(() => {
    const padded = tf.pad(x.reshape([b, numPatch, numPatch, d]), [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]);
    const shifted = NEIGHBOUR_OFFSETS.map(([dy, dx]) =>
      padded.slice([0, 1 + dy, 1 + dx, 0], [b, numPatch, numPatch, d]),
    );
    return tf.stack(shifted, 3).reshape([b * n, NEIGHBOUR_OFFSETS.length, d]) as tf.Tensor3D;
  });
}

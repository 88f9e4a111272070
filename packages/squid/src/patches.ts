import { tf } from '@squid-ad/backend';

/**
 * Cuts images into P×P non-overlapping patches (official `make_window`):
 * `[B, P·p, P·p, C]` → `[B·P², p, p, C]`, row `b·P² + r·P + c` (row-major grid, batch-major rows).
 */
export function splitPatches(x: tf.Tensor4D, numPatch: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [b, h, w, c] = x.shape;
    if (h % numPatch !== 0 || w % numPatch !== 0) {
      throw new Error(`splitPatches: ${h}×${w} image does not split into ${numPatch}×${numPatch} patches`);
    }
    const ph = h / numPatch;
    const pw = w / numPatch;
    return x
      .reshape([b, numPatch, ph, numPatch, pw, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b * numPatch * numPatch, ph, pw, c]) as tf.Tensor4D;
  });
}

/** Inverse of {@link splitPatches} (official `window_reverse`): `[B·P², p, p, C]` → `[B, P·p, P·p, C]`. */
export function stitchPatches(x: tf.Tensor4D, numPatch: number): tf.Tensor4D {
  return tf.tidy(() => {
    const [rows, ph, pw, c] = x.shape;
    const n = numPatch * numPatch;
    if (rows % n !== 0) throw new Error(`stitchPatches: ${rows} rows are not a multiple of ${n} patches`);
    const b = rows / n;
    return x
      .reshape([b, numPatch, numPatch, ph, pw, c])
      .transpose([0, 1, 3, 2, 4, 5])
      .reshape([b, numPatch * ph, numPatch * pw, c]) as tf.Tensor4D;
  });
}

import type { Rng } from '@squid-ad/backend';
import { z } from 'zod';

/** Random affine of the chest presets (torchvision `RandomAffine(0, translate, scale)`). */
export const affineSchema = z.object({
  /** Maximum shift as a fraction of the side, drawn per axis in ±translate·S (rounded to pixels). */
  translate: z.number().min(0).max(0.5).default(0.05),
  /** Zoom factor drawn uniformly in [lo, hi], about the image centre. */
  scale: z.tuple([z.number().positive(), z.number().positive()]).default([0.95, 1.05]),
});
export type AffineOptions = z.input<typeof affineSchema>;

/** The augmentation of the official ZhangLab and CheXpert training loaders. */
export const CHEST_AUGMENT: AffineOptions = { translate: 0.05, scale: [0.95, 1.05] };

/**
 * Randomly shifts and zooms a square `[S, S]` grey image (bilinear, zero fill outside), drawing
 * tx, ty, scale from `rng` in that order. Returns a new array.
 */
export function augmentAffine(image: Float32Array, rng: Rng, options: AffineOptions = {}): Float32Array {
  const size = Math.round(Math.sqrt(image.length));
  if (size * size !== image.length || size < 2) {
    throw new Error(`augmentAffine: expected a square [S, S] image, got ${image.length} values`);
  }
  const { translate, scale } = affineSchema.parse(options);
  const maxShift = translate * size;
  const tx = Math.round(rng.uniform(-maxShift, maxShift));
  const ty = Math.round(rng.uniform(-maxShift, maxShift));
  const s = rng.uniform(scale[0], scale[1]);
  const c = (size - 1) / 2;
  // The map is separable (no rotation): precompute per-column and per-row taps once.
  const xs = taps(size, tx, s, c);
  const ys = taps(size, ty, s, c);
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    const y0 = ys.i0[y];
    const wy0 = ys.w0[y];
    const wy1 = ys.w1[y];
    if (wy0 === 0 && wy1 === 0) continue;
    const r0 = y0 * size;
    const r1 = r0 + size;
    for (let x = 0; x < size; x++) {
      const x0 = xs.i0[x];
      const wx0 = xs.w0[x];
      const wx1 = xs.w1[x];
      let v = 0;
      if (wy0 !== 0) v += wy0 * (wx0 * image[r0 + x0] + wx1 * image[r0 + x0 + 1]);
      if (wy1 !== 0) v += wy1 * (wx0 * image[r1 + x0] + wx1 * image[r1 + x0 + 1]);
      out[y * size + x] = v;
    }
  }
  return out;
}

// Bilinear taps of output index o at source (o − t − c)/s + c; a tap outside the image gets weight 0
// (zero fill) and its index is clamped so reads stay in bounds.
function taps(size: number, t: number, s: number, c: number) {
  const i0 = new Int32Array(size);
  const w0 = new Float32Array(size);
  const w1 = new Float32Array(size);
  for (let o = 0; o < size; o++) {
    const src = (o - t - c) / s + c;
    const a = Math.floor(src);
    const f = src - a;
    let wa = a >= 0 && a < size ? 1 - f : 0;
    let wb = a + 1 >= 0 && a + 1 < size ? f : 0;
    let base = a;
    if (a < 0) {
      base = 0; // only tap a+1 = 0 can be inside: move it to slot 0
      wa = wb;
      wb = 0;
    } else if (a >= size - 1) {
      base = size - 2; // only tap a = size−1 can be inside: move it to slot 1
      wb = wa;
      wa = 0;
      if (a > size - 1) wb = 0;
    }
    i0[o] = base;
    w0[o] = wa;
    w1[o] = wb;
  }
  return { i0, w0, w1 };
}

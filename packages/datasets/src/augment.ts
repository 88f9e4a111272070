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
export function augmentAffine(image: Float32Array, size: number, rng: Rng, options: AffineOptions = {}): Float32Array {
  const { translate, scale } = affineSchema.parse(options);
  const maxShift = translate * size;
  const tx = Math.round(rng.uniform(-maxShift, maxShift));
  const ty = Math.round(rng.uniform(-maxShift, maxShift));
  const s = rng.uniform(scale[0], scale[1]);
  const c = (size - 1) / 2;
  const out = new Float32Array(size * size);
  const inv = 1 / s;
  for (let y = 0; y < size; y++) {
    const sy = (y - ty - c) * inv + c;
    const y0 = Math.floor(sy);
    const fy = sy - y0;
    for (let x = 0; x < size; x++) {
      const sx = (x - tx - c) * inv + c;
      const x0 = Math.floor(sx);
      const fx = sx - x0;
      const at = (yy: number, xx: number) =>
        yy >= 0 && yy < size && xx >= 0 && xx < size ? image[yy * size + xx] : 0;
      out[y * size + x] =
        (1 - fy) * ((1 - fx) * at(y0, x0) + fx * at(y0, x0 + 1)) +
        fy * ((1 - fx) * at(y0 + 1, x0) + fx * at(y0 + 1, x0 + 1));
    }
  }
  return out;
}

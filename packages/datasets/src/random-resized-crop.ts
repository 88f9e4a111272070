import type { Rng } from '@squid-ad/backend';

/** A square crop of a square image: `size × size` pixels from row `top`, column `left`. */
export interface SquareCrop {
  top: number;
  left: number;
  size: number;
  /** True when all 10 draws were too large and the crop is the whole image. */
  fallback: boolean;
}

/** Python's `round`: halves go to the even neighbour. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The crop of torchvision's `RandomResizedCrop.get_params` with `ratio=(1, 1)` on a `side × side`
 * image: up to 10 times draw an area fraction s ~ U(scale), side w = round(side·√s); the first w
 * that fits is placed uniformly (top and left each in 0..side−w); after 10 misses the whole image.
 */
export function randomResizedCrop(rng: Rng, side: number, scale: readonly [number, number]): SquareCrop {
  const area = side * side;
  for (let attempt = 0; attempt < 10; attempt++) {
    const w = roundHalfEven(Math.sqrt(area * rng.uniform(scale[0], scale[1])));
    if (w > 0 && w <= side) {
      const top = rng.int(side - w + 1);
      const left = rng.int(side - w + 1);
      return { top, left, size: w, fallback: false };
    }
  }
  return { top: 0, left: 0, size: side, fallback: true };
}

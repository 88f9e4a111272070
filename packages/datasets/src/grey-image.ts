/** One grey channel, row-major `[H, W]`, values in [0, 1]. */
export interface GreyImage {
  width: number;
  height: number;
  data: Float32Array;
}

/** A file that cannot be used as an image: names the file and says why. */
export class BadImageError extends Error {
  readonly path: string;
  readonly reason: string;

  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'BadImageError';
    this.path = path;
    this.reason = reason;
  }
}

// ITU-R 601-2 luma, the weights PIL uses for convert('L'), so RGB inputs match the official loaders.
export const LUMA_R = 0.299;
export const LUMA_G = 0.587;
export const LUMA_B = 0.114;

/**
 * One grey channel in [0, 1] from `n` interleaved pixels of `channels` samples each (grey,
 * grey+alpha, RGB or RGBA; alpha ignored), dividing by the format's largest sample `max`.
 */
export function interleavedToGrey(
  samples: ArrayLike<number>,
  n: number,
  channels: number,
  max: number,
): Float32Array {
  const out = new Float32Array(n);
  const inv = 1 / max;
  if (channels <= 2) {
    for (let i = 0; i < n; i++) out[i] = samples[i * channels] * inv;
  } else {
    for (let i = 0; i < n; i++) {
      const j = i * channels;
      out[i] = (LUMA_R * samples[j] + LUMA_G * samples[j + 1] + LUMA_B * samples[j + 2]) * inv;
    }
  }
  return out;
}

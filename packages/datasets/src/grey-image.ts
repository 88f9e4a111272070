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

import jpeg from 'jpeg-js';
import { BadImageError, type GreyImage, LUMA_B, LUMA_G, LUMA_R } from './grey-image.js';

/** Decodes a baseline/progressive JPEG to grey in [0,1]. */
export function decodeJpegGrey(bytes: Uint8Array, path: string, maxPixels: number): GreyImage {
  let img: { width: number; height: number; data: Uint8Array };
  try {
    img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Tolerant decoding silently fills missing blocks: a truncated file must be an error instead.
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(512, (maxPixels * 16) / 2 ** 20),
    });
  } catch (err) {
    throw new BadImageError(path, `corrupt JPEG (${(err as Error).message})`);
  }
  const { width, height, data } = img;
  const n = width * height;
  const out = new Float32Array(n);
  // jpeg-js always expands to RGB; for grey JPEGs the three channels are equal and luma is exact.
  for (let i = 0; i < n; i++) {
    const j = i * 3;
    out[i] = (LUMA_R * data[j] + LUMA_G * data[j + 1] + LUMA_B * data[j + 2]) / 255;
  }
  return { width, height, data: out };
}

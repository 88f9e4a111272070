import jpeg from 'jpeg-js';
import { BadImageError, type GreyImage, interleavedToGrey } from './grey-image.js';
import type { JpegSamples } from './jpeg-turbo.js';

/** A faster JPEG decoder tried first; undefined = it refused the file (jpeg-js then decodes or explains). */
export type JpegFastPath = (bytes: Uint8Array) => JpegSamples | undefined;

/**
 * Decodes a baseline/progressive JPEG to grey in [0,1]: `fast` (libjpeg-turbo in Node) when given
 * and it accepts the file, else jpeg-js, whose error says what is wrong with it.
 */
export function decodeJpegGrey(
  bytes: Uint8Array,
  path: string,
  maxPixels: number,
  fast?: JpegFastPath,
): GreyImage {
  const { width, height, components, data } = fast?.(bytes) ?? decodeJpegJs(bytes, path, maxPixels);
  return { width, height, data: interleavedToGrey(data, width * height, components, 255) };
}

function decodeJpegJs(bytes: Uint8Array, path: string, maxPixels: number): JpegSamples {
  try {
    const img = jpeg.decode(bytes, {
      useTArray: true,
      formatAsRGBA: false,
      // Tolerant decoding silently fills missing blocks: a truncated file must be an error instead.
      tolerantDecoding: false,
      maxResolutionInMP: maxPixels / 1e6,
      maxMemoryUsageInMB: Math.max(512, (maxPixels * 16) / 2 ** 20),
    });
    // jpeg-js always expands to RGB (grey JPEGs have three equal channels).
    return { width: img.width, height: img.height, components: 3, data: img.data };
  } catch (err) {
    throw new BadImageError(path, `corrupt JPEG (${(err as Error).message})`);
  }
}

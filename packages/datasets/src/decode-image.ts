import { decodeDicomGrey } from './dicom-codec.js';
import { BadImageError, type GreyImage } from './grey-image.js';
import { checkPixelLimit, headerDimensions, imageFormat } from './image-format.js';
import { decodeJpegGrey } from './jpeg-codec.js';
import { decodePngGrey } from './png-codec.js';

/** Default decompression-bomb guard: 50 megapixels (a 7000×7000 radiograph). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Images with more pixels are refused before decoding. */
  maxPixels?: number;
}

/**
 * Decodes PNG (1–16 bit, grey/RGB/RGBA/palette), JPEG or uncompressed DICOM bytes to one grey
 * channel in [0,1]. `path` only names the file in errors.
 */
export function decodeImage(bytes: Uint8Array, path: string, options: DecodeOptions = {}): GreyImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadImageError(path, 'empty file (0 bytes)');
  const format = imageFormat(bytes);
  if (format === 'dicom') return decodeDicomGrey(bytes, path, maxPixels);
  if (format === undefined) throw new BadImageError(path, 'not an image (not PNG, JPEG or DICOM)');
  const { width, height } = headerDimensions(bytes, path);
  checkPixelLimit(width, height, maxPixels, path);
  return format === 'png' ? decodePngGrey(bytes, path) : decodeJpegGrey(bytes, path, maxPixels);
}

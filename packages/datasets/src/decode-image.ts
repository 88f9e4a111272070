import { DEFAULT_MAX_PIXELS, type DecodeOptions, type Decoder, decodeImageBytes } from './decode-bytes.js';
import type { GreyImage } from './grey-image.js';
import { checkPixelLimit, headerDimensions, imageFormat } from './image-format.js';
import { decodeJpegTurbo } from './jpeg-turbo.js';
import { checkPngCrcs } from './png-crc.js';
import { decodeWithSharp, loadSharp } from './sharp-codec.js';

export { DEFAULT_MAX_PIXELS, type DecodeOptions, type Decoder };

/**
 * Decodes PNG (1–16 bit, grey/RGB/RGBA/palette), JPEG or uncompressed DICOM bytes to one grey
 * channel in [0,1]; JPEG through libjpeg-turbo (WebAssembly) when it accepts the file. `path`
 * only names the file in errors.
 */
export function decodeImage(bytes: Uint8Array, path: string, options: DecodeOptions = {}): GreyImage {
  return decodeImageBytes(bytes, path, options, decodeJpegTurbo);
}

/**
 * Like {@link decodeImage}, but PNG and JPEG go through the optional native `sharp` when available:
 * decoding off the main thread (half the CPU time for 16-bit PNG, ~1.6× less for JPEG).
 */
export async function decodeImageAsync(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = {},
): Promise<GreyImage> {
  const decoder = options.decoder ?? (process.env.SQUID_DECODER === 'js' ? 'js' : 'auto');
  const format = imageFormat(bytes);
  if (decoder === 'js' || bytes.length === 0 || (format !== 'png' && format !== 'jpeg')) {
    return decodeImage(bytes, path, options);
  }
  const sharp = await loadSharp();
  if (!sharp) {
    if (decoder === 'sharp')
      throw new Error(`${path}: decoder 'sharp' requested but the sharp module is not installed`);
    return decodeImage(bytes, path, options);
  }
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  const { width, height } = headerDimensions(bytes, path);
  checkPixelLimit(width, height, maxPixels, path);
  if (format === 'png') checkPngCrcs(bytes, path);
  return decodeWithSharp(sharp, bytes, path, format, maxPixels);
}

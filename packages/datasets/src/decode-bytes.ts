import { decodeDicomGrey } from './dicom-codec.js';
import { BadImageError, type GreyImage } from './grey-image.js';
import { checkPixelLimit, headerDimensions, imageFormat } from './image-format.js';
import { decodeJpegGrey, type JpegFastPath } from './jpeg-codec.js';
import { decodePngGrey } from './png-codec.js';
import { checkPngCrcs } from './png-crc.js';

// The decoding every platform shares (no `node:` import: browsers load this module too). Node's
// decodeImage (decode-image.ts) adds libjpeg-turbo and the optional sharp.

/** Default decompression-bomb guard: 50 megapixels (a 7000×7000 radiograph). */
export const DEFAULT_MAX_PIXELS = 50_000_000;

/** Which PNG/JPEG decoder {@link decodeImageAsync} uses; DICOM is always decoded in JS. */
export type Decoder = 'auto' | 'js' | 'sharp';

/** Options of {@link decodeImage}. */
export interface DecodeOptions {
  /** Images with more pixels are refused before decoding. */
  maxPixels?: number;
  /**
   * `auto` (default): `sharp` when installed, else `js`. Env `SQUID_DECODER=js` forces the built-in
   * decoders (JS and WebAssembly: bit-identical results on every platform).
   */
  decoder?: Decoder;
}

/**
 * Decodes PNG (1–16 bit, grey/RGB/RGBA/palette), JPEG or uncompressed DICOM bytes to one grey
 * channel in [0,1] with the JS decoders (`jpeg`: a faster JPEG decoder to try first). `path`
 * only names the file in errors.
 */
export function decodeImageBytes(
  bytes: Uint8Array,
  path: string,
  options: DecodeOptions = {},
  jpeg?: JpegFastPath,
): GreyImage {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (bytes.length === 0) throw new BadImageError(path, 'empty file (0 bytes)');
  const format = imageFormat(bytes);
  if (format === 'dicom') return decodeDicomGrey(bytes, path, maxPixels);
  if (format === undefined) throw new BadImageError(path, 'not an image (not PNG, JPEG or DICOM)');
  const { width, height } = headerDimensions(bytes, path);
  checkPixelLimit(width, height, maxPixels, path);
  if (format === 'png') {
    checkPngCrcs(bytes, path);
    return decodePngGrey(bytes, path);
  }
  return decodeJpegGrey(bytes, path, maxPixels, jpeg);
}

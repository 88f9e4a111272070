import { type DecodeOptions, decodeImageBytes } from './decode-bytes.js';
import { type ResizeFilter, resize } from './resize.js';

/** Options of {@link imageFromBytes}. */
export interface ImageFromBytesOptions extends Pick<DecodeOptions, 'maxPixels'> {
  /** Output side S: the image is resized directly to S×S. */
  size: number;
  filter?: ResizeFilter;
}

/**
 * `loadImage` for bytes already in memory (a browser's dropped file): decodes with the JS
 * decoders and resizes to a `[S, S]` grey Float32Array in [0,1]. `path` names the file in errors.
 */
export function imageFromBytes(
  bytes: Uint8Array,
  path: string,
  options: ImageFromBytesOptions,
): Float32Array {
  const image = decodeImageBytes(bytes, path, { maxPixels: options.maxPixels });
  return resize(image, options.size, options.size, options.filter).data;
}

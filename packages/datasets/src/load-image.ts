import { readFile } from 'node:fs/promises';
import { type DecodeOptions, decodeImageAsync } from './decode-image.js';
import { BadImageError } from './grey-image.js';
import { type ResizeFilter, resize } from './resize.js';

/** Options of {@link loadImage}. */
export interface LoadImageOptions extends DecodeOptions {
  /** Output side S: the image is resized directly to S×S. */
  size: number;
  filter?: ResizeFilter;
}

/** Reads, decodes and resizes one image file to a `[S, S]` grey Float32Array in [0,1]. */
export async function loadImage(path: string, options: LoadImageOptions): Promise<Float32Array> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (err) {
    throw new BadImageError(path, `cannot read file (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const image = await decodeImageAsync(bytes, path, options);
  return resize(image, options.size, options.size, options.filter).data;
}

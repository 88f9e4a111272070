import { imageSize } from 'image-size';
import { BadImageError } from './grey-image.js';

/** Image containers this package decodes. */
export type ImageFormat = 'png' | 'jpeg' | 'dicom';

/** Detects the container from magic bytes (never from the file name). */
export function imageFormat(bytes: Uint8Array): ImageFormat | undefined {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47) {
    return 'png';
  }
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  if (
    bytes.length >= 132 &&
    bytes[128] === 0x44 &&
    bytes[129] === 0x49 &&
    bytes[130] === 0x43 &&
    bytes[131] === 0x4d
  ) {
    return 'dicom';
  }
  return undefined;
}

/** Width and height from the PNG/JPEG header alone, so oversized images are refused before decoding. */
export function headerDimensions(bytes: Uint8Array, path: string): { width: number; height: number } {
  let size: { width?: number; height?: number };
  try {
    size = imageSize(bytes);
  } catch (err) {
    throw new BadImageError(path, `unreadable image header (${(err as Error).message})`);
  }
  if (!size.width || !size.height) throw new BadImageError(path, 'image header has no width/height');
  return { width: size.width, height: size.height };
}

/** Throws when `width × height` exceeds `maxPixels` (decompression-bomb guard). */
export function checkPixelLimit(width: number, height: number, maxPixels: number, path: string): void {
  if (width * height > maxPixels) {
    throw new BadImageError(
      path,
      `image too large: ${width}×${height} = ${width * height} pixels exceeds the limit of ${maxPixels}`,
    );
  }
}

import type { Sharp, SharpOptions } from 'sharp';
import { BadImageError, type GreyImage, interleavedToGrey } from './grey-image.js';

type SharpFactory = (input: Uint8Array, options?: SharpOptions) => Sharp;

let sharpModule: Promise<SharpFactory | null> | undefined;

/** The optional `sharp` (libvips) module, or null when it is not installed or cannot load. */
export function loadSharp(): Promise<SharpFactory | null> {
  sharpModule ??= import('sharp').then(
    (m) => (m.default ?? m) as unknown as SharpFactory,
    () => null,
  );
  return sharpModule;
}

/**
 * Decodes PNG/JPEG with libvips (native, off the main thread): same grey values as the built-in
 * path for PNG; JPEG may differ by a grey level or two (another IDCT).
 */
export async function decodeWithSharp(
  sharp: SharpFactory,
  bytes: Uint8Array,
  path: string,
  format: 'png' | 'jpeg',
  maxPixels: number,
): Promise<GreyImage> {
  // failOn 'warning' turns libpng/libjpeg warnings (truncated data, bad CRC) into errors.
  const options: SharpOptions = { limitInputPixels: maxPixels, failOn: 'warning' };
  let data: Buffer;
  let info: { width: number; height: number; channels: number };
  let depth: 'uchar' | 'ushort';
  try {
    const meta = await sharp(bytes, options).metadata();
    depth = meta.depth === 'ushort' ? 'ushort' : 'uchar';
    // Grey (+alpha) stays one band; colour (and palette) images come out as RGB(A) for our luma.
    const grey = (meta.channels ?? 3) <= 2 && !meta.isPalette;
    // Without an explicit colourspace libvips converts to 8-bit sRGB, losing 16-bit precision.
    const space = grey ? (depth === 'ushort' ? 'grey16' : 'b-w') : depth === 'ushort' ? 'rgb16' : 'srgb';
    let pipeline = sharp(bytes, options);
    if (grey) pipeline = pipeline.extractChannel(0);
    pipeline = pipeline.toColourspace(space);
    ({ data, info } = await pipeline.raw({ depth }).toBuffer({ resolveWithObject: true }));
  } catch (err) {
    throw new BadImageError(path, `corrupt ${format === 'png' ? 'PNG' : 'JPEG'} (${(err as Error).message})`);
  }
  const { width, height, channels } = info;
  const n = width * height;
  const samples =
    depth === 'ushort'
      ? new Uint16Array(data.buffer.slice(data.byteOffset, data.byteOffset + n * channels * 2))
      : data;
  return { width, height, data: interleavedToGrey(samples, n, channels, depth === 'ushort' ? 65535 : 255) };
}

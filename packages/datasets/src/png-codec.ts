import { convertIndexedToRgb, decode as decodePng, encode as encodePng } from 'fast-png';
import { BadImageError, type GreyImage, interleavedToGrey } from './grey-image.js';

/** Decodes an 8- or 16-bit (also 1/2/4-bit and palette) PNG to grey in [0,1]; alpha is ignored. */
export function decodePngGrey(bytes: Uint8Array, path: string): GreyImage {
  let png: ReturnType<typeof decodePng>;
  try {
    png = decodePng(bytes, { checkCrc: true });
  } catch (err) {
    throw new BadImageError(path, `corrupt PNG (${(err as Error).message})`);
  }
  const { width, height, depth } = png;
  const n = width * height;
  let channels = png.channels;
  let samples: ArrayLike<number> = png.data;
  let max = 2 ** depth - 1;
  if (png.palette) {
    samples = convertIndexedToRgb(png);
    channels = png.palette[0].length;
    max = 255;
  } else if (depth < 8) {
    samples = unpackBits(png.data as Uint8Array, width, height, channels, depth);
  }
  // A truncated IDAT stream can inflate to fewer bytes than the header promises.
  if (samples.length < n * channels) {
    throw new BadImageError(
      path,
      `truncated PNG: ${samples.length} samples for ${width}×${height}×${channels}`,
    );
  }
  return { width, height, data: interleavedToGrey(samples, n, channels, max) };
}

// PNG packs sub-byte samples MSB first, each row padded to a whole byte.
function unpackBits(
  data: Uint8Array,
  width: number,
  height: number,
  channels: number,
  depth: number,
): Uint8Array {
  const perRow = width * channels;
  const rowBytes = Math.ceil((perRow * depth) / 8);
  const out = new Uint8Array(perRow * height);
  const mask = (1 << depth) - 1;
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < perRow; x++) {
      const bit = x * depth;
      const byte = data[y * rowBytes + (bit >> 3)];
      out[y * perRow + x] = (byte >> (8 - depth - (bit & 7))) & mask;
    }
  }
  return out;
}

/** Encodes `[H, W]` grey values in [0,1] as an 8-bit (or 16-bit) grey PNG. */
export function encodeGreyPng(image: GreyImage, depth: 8 | 16 = 8): Uint8Array {
  const n = image.width * image.height;
  const max = depth === 8 ? 255 : 65535;
  const data = depth === 8 ? new Uint8Array(n) : new Uint16Array(n);
  for (let i = 0; i < n; i++) data[i] = Math.round(Math.min(1, Math.max(0, image.data[i])) * max);
  return encodePng({ width: image.width, height: image.height, data, depth, channels: 1 });
}

import zlib from 'node:zlib';
import { BadImageError, type GreyImage, LUMA_B, LUMA_G, LUMA_R } from './grey-image.js';

// Why this module exists: a 1024² 16-bit radiograph spends ~28 ms in fast-png's inflate (fflate, pure
// JS) and 7 ms in its JS CRC, against ~13 ms for node's zlib; fast-png has no hook to plug another
// inflater, and pngjs (which does use node:zlib) expands every image to RGBA through per-pixel
// callbacks (~130 ms). So the common medical case, non-interlaced 8/16-bit grey, grey+alpha, RGB or
// RGBA, is read here with node's zlib and straight into grey floats; palette, 1/2/4-bit and Adam7
// images stay with fast-png (png-codec.ts). Tests check equality with fast-png for every filter type.

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const CHANNELS: Record<number, number> = { 0: 1, 2: 3, 4: 2, 6: 4 };
// zlib.crc32 arrived in Node 20.15 / 22.2: without it fast-png (with its own CRC) does the work.
const crc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;

/**
 * Decodes a non-interlaced 8- or 16-bit grey / grey+alpha / RGB / RGBA PNG to grey in [0,1] (alpha
 * ignored, luma for colour) with node's zlib, every chunk CRC-checked. Returns undefined for the
 * layouts it leaves to fast-png: palette, 1/2/4-bit, interlaced, or no `zlib.crc32`.
 */
export function decodePngZlib(bytes: Uint8Array, path: string): GreyImage | undefined {
  if (!crc32 || bytes.length < 33) return undefined;
  for (let i = 0; i < 8; i++) if (bytes[i] !== SIGNATURE[i]) return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  // IHDR is the first chunk, always 13 bytes (PNG §11.2.2).
  if (view.getUint32(8) !== 13 || chunkType(bytes, 12) !== 'IHDR') return undefined;
  const width = view.getUint32(16);
  const height = view.getUint32(20);
  const depth = bytes[24];
  const colorType = bytes[25];
  const channels = CHANNELS[colorType];
  if (!channels || (depth !== 8 && depth !== 16) || bytes[28] !== 0) return undefined;
  if (bytes[26] !== 0 || bytes[27] !== 0 || width === 0 || height === 0) return undefined;

  const idat: Uint8Array[] = [];
  let offset = 8;
  for (;;) {
    if (offset + 12 > bytes.length) throw new BadImageError(path, 'truncated PNG: no IEND chunk');
    const length = view.getUint32(offset);
    const type = chunkType(bytes, offset + 4);
    const end = offset + 12 + length;
    if (end > bytes.length) {
      throw new BadImageError(path, `truncated PNG: chunk ${type} runs past the end of the file`);
    }
    if (crc32(bytes.subarray(offset + 4, end - 4)) !== view.getUint32(end - 4)) {
      throw new BadImageError(path, `corrupt PNG (CRC mismatch in chunk ${type})`);
    }
    if (type === 'IDAT') idat.push(bytes.subarray(offset + 8, end - 4));
    offset = end;
    if (type === 'IEND') break;
  }
  if (idat.length === 0) throw new BadImageError(path, 'corrupt PNG (no IDAT chunk)');

  const bpp = (channels * depth) / 8;
  const rowBytes = width * bpp;
  const expected = height * (rowBytes + 1);
  let raw: Buffer;
  try {
    // maxOutputLength also stops a stream that inflates to more than the header announces.
    raw = zlib.inflateSync(idat.length === 1 ? idat[0] : Buffer.concat(idat), {
      maxOutputLength: expected,
    });
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    // Extra bytes after the last row: fast-png ignores them, so let it decode this rare file.
    if (e.code === 'ERR_BUFFER_TOO_LARGE') return undefined;
    throw new BadImageError(path, `corrupt PNG (${e.message})`);
  }
  if (raw.length < expected) {
    throw new BadImageError(
      path,
      `truncated PNG: ${raw.length} of ${expected} bytes of pixel data for ${width}×${height}×${channels}`,
    );
  }
  unfilter(raw, height, rowBytes, bpp, path);
  return { width, height, data: toGrey(raw, width, height, channels, depth) };
}

function chunkType(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

// Reverses the per-row filters (PNG §9) in place: row y's bytes follow its filter byte at
// y·(rowBytes+1); the row above is read already unfiltered.
function unfilter(raw: Uint8Array, height: number, rowBytes: number, bpp: number, path: string): void {
  const stride = rowBytes + 1;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    const up = row - stride; // only read when y > 0
    const filter = raw[row - 1];
    if (filter === 0) continue;
    if (filter === 1) {
      for (let x = bpp; x < rowBytes; x++) raw[row + x] = raw[row + x] + raw[row + x - bpp];
    } else if (filter === 2) {
      if (y > 0) for (let x = 0; x < rowBytes; x++) raw[row + x] = raw[row + x] + raw[up + x];
    } else if (filter === 3) {
      if (y === 0) {
        for (let x = bpp; x < rowBytes; x++) raw[row + x] = raw[row + x] + (raw[row + x - bpp] >> 1);
      } else {
        for (let x = 0; x < bpp; x++) raw[row + x] = raw[row + x] + (raw[up + x] >> 1);
        for (let x = bpp; x < rowBytes; x++) {
          raw[row + x] = raw[row + x] + ((raw[row + x - bpp] + raw[up + x]) >> 1);
        }
      }
    } else if (filter === 4) {
      if (y === 0) {
        // Paeth with no row above picks the left byte: the Sub filter.
        for (let x = bpp; x < rowBytes; x++) raw[row + x] = raw[row + x] + raw[row + x - bpp];
      } else {
        for (let x = 0; x < bpp; x++) raw[row + x] = raw[row + x] + raw[up + x];
        for (let x = bpp; x < rowBytes; x++) {
          const a = raw[row + x - bpp];
          const b = raw[up + x];
          const c = raw[up + x - bpp];
          const p = a + b - c;
          const pa = Math.abs(p - a);
          const pb = Math.abs(p - b);
          const pc = Math.abs(p - c);
          raw[row + x] = raw[row + x] + (pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
        }
      }
    } else {
      throw new BadImageError(path, `corrupt PNG (unknown filter type ${filter} in row ${y})`);
    }
  }
}

// Same arithmetic as interleavedToGrey (grey-image.ts), read from big-endian unfiltered rows, so the
// values equal fast-png's path bit for bit.
function toGrey(
  raw: Uint8Array,
  width: number,
  height: number,
  channels: number,
  depth: number,
): Float32Array {
  const out = new Float32Array(width * height);
  const inv = 1 / (depth === 16 ? 65535 : 255);
  const stride = width * channels * (depth / 8) + 1;
  for (let y = 0; y < height; y++) {
    const row = y * stride + 1;
    const o = y * width;
    if (depth === 8) {
      if (channels <= 2) {
        for (let x = 0; x < width; x++) out[o + x] = raw[row + x * channels] * inv;
      } else {
        for (let x = 0; x < width; x++) {
          const j = row + x * channels;
          out[o + x] = (LUMA_R * raw[j] + LUMA_G * raw[j + 1] + LUMA_B * raw[j + 2]) * inv;
        }
      }
    } else {
      const step = channels * 2;
      if (channels <= 2) {
        for (let x = 0; x < width; x++) {
          const j = row + x * step;
          out[o + x] = ((raw[j] << 8) | raw[j + 1]) * inv;
        }
      } else {
        for (let x = 0; x < width; x++) {
          const j = row + x * step;
          const r = (raw[j] << 8) | raw[j + 1];
          const g = (raw[j + 2] << 8) | raw[j + 3];
          const b = (raw[j + 4] << 8) | raw[j + 5];
          out[o + x] = (LUMA_R * r + LUMA_G * g + LUMA_B * b) * inv;
        }
      }
    }
  }
  return out;
}

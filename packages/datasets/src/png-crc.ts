import { crc32 } from './crc32.js';
import { BadImageError } from './grey-image.js';

/**
 * Refuses a PNG whose chunks fail their CRC, before either decoder sees it: the built-in decoder
 * refuses such files and sharp (libspng) decodes them, so one file got two verdicts. Walks the
 * chunk list (length, type, data, CRC of type + data) up to IEND; a cut file is left to the decoders.
 */
export function checkPngCrcs(bytes: Uint8Array, path: string): void {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let at = 8; // after the signature
  while (at + 12 <= bytes.length) {
    const length = view.getUint32(at);
    const end = at + 12 + length;
    if (end > bytes.length) return;
    const type = String.fromCharCode(...bytes.subarray(at + 4, at + 8));
    if (crc32(bytes.subarray(at + 4, at + 8 + length)) !== view.getUint32(at + 8 + length))
      throw new BadImageError(path, `corrupt PNG (CRC mismatch for chunk ${type})`);
    if (type === 'IEND') return;
    at = end;
  }
}

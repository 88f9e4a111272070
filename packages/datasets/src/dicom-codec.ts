import dicomParser from 'dicom-parser';
import { BadImageError, type GreyImage, LUMA_B, LUMA_G, LUMA_R } from './grey-image.js';
import { checkPixelLimit } from './image-format.js';

// Transfer syntaxes whose pixel data is stored as plain samples.
const UNCOMPRESSED = new Map([
  ['1.2.840.10008.1.2', true], // implicit VR little endian
  ['1.2.840.10008.1.2.1', true], // explicit VR little endian
  ['1.2.840.10008.1.2.2', false], // explicit VR big endian (retired)
]);

/**
 * Decodes the first frame of an uncompressed DICOM image: applies rescale slope/intercept, inverts
 * MONOCHROME1 so that dense tissue is bright, and maps the frame's own min..max to [0,1].
 */
export function decodeDicomGrey(bytes: Uint8Array, path: string, maxPixels: number): GreyImage {
  let ds: ReturnType<typeof dicomParser.parseDicom>;
  try {
    ds = dicomParser.parseDicom(bytes);
  } catch (err) {
    const e = err as { exception?: string; message?: string } | string;
    const msg = typeof e === 'string' ? e : (e.exception ?? e.message ?? String(e));
    throw new BadImageError(path, `corrupt DICOM (${msg})`);
  }
  const syntax = ds.string('x00020010')?.trim() ?? '1.2.840.10008.1.2';
  const littleEndian = UNCOMPRESSED.get(syntax);
  if (littleEndian === undefined) {
    throw new BadImageError(path, `DICOM transfer syntax ${syntax} (compressed) is not supported`);
  }
  const rows = ds.uint16('x00280010');
  const cols = ds.uint16('x00280011');
  const pixel = ds.elements.x7fe00010;
  if (!rows || !cols || !pixel)
    throw new BadImageError(path, 'DICOM file has no image (Rows/Columns/PixelData)');
  checkPixelLimit(cols, rows, maxPixels, path);
  const samplesPerPixel = ds.uint16('x00280002') ?? 1;
  const bitsAllocated = ds.uint16('x00280100') ?? 16;
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated;
  const signed = ds.uint16('x00280103') === 1;
  const planar = ds.uint16('x00280006') === 1;
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim().toUpperCase();
  const slope = ds.floatString('x00281053') ?? 1;
  const intercept = ds.floatString('x00281052') ?? 0;
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new BadImageError(path, `DICOM BitsAllocated ${bitsAllocated} is not supported (8 or 16)`);
  }
  if (samplesPerPixel !== 1 && !(samplesPerPixel === 3 && photometric === 'RGB')) {
    throw new BadImageError(
      path,
      `DICOM photometric ${photometric} with ${samplesPerPixel} samples is not supported`,
    );
  }
  const n = rows * cols;
  const bytesPer = bitsAllocated / 8;
  const need = n * samplesPerPixel * bytesPer;
  if (pixel.length < need || pixel.dataOffset + need > bytes.length) {
    throw new BadImageError(path, `truncated DICOM pixel data: ${pixel.length} bytes for ${cols}×${rows}`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset + pixel.dataOffset, need);
  const storedMask = bitsStored >= 32 ? 0xffffffff : 2 ** bitsStored - 1;
  const signBit = 2 ** (bitsStored - 1);
  const sample = (k: number): number => {
    let v = bytesPer === 1 ? view.getUint8(k) : view.getUint16(k * 2, littleEndian);
    v &= storedMask;
    if (signed && v >= signBit) v -= 2 ** bitsStored;
    return v * slope + intercept;
  };
  const out = new Float32Array(n);
  if (samplesPerPixel === 1) {
    for (let i = 0; i < n; i++) out[i] = sample(i);
  } else {
    for (let i = 0; i < n; i++) {
      const [r, g, b] = planar ? [i, i + n, i + 2 * n] : [3 * i, 3 * i + 1, 3 * i + 2];
      out[i] = LUMA_R * sample(r) + LUMA_G * sample(g) + LUMA_B * sample(b);
    }
  }
  let lo = Number.POSITIVE_INFINITY;
  let hi = Number.NEGATIVE_INFINITY;
  for (let i = 0; i < n; i++) {
    if (out[i] < lo) lo = out[i];
    if (out[i] > hi) hi = out[i];
  }
  const range = hi - lo;
  const invert = photometric === 'MONOCHROME1';
  for (let i = 0; i < n; i++) {
    const v = range > 0 ? (out[i] - lo) / range : 0;
    out[i] = invert ? 1 - v : v;
  }
  return { width: cols, height: rows, data: out };
}

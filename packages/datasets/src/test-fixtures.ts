// Test-only helpers: write small DICOM files by hand (explicit VR little endian, DICOM PS3.5 §7.1.2)
// so the decoder is checked against an encoding it did not produce.

interface DicomSpec {
  rows: number;
  cols: number;
  pixels: number[];
  bitsAllocated?: 8 | 16;
  bitsStored?: number;
  signed?: boolean;
  photometric?: string;
  slope?: number;
  intercept?: number;
  transferSyntax?: string;
}

const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN']);

function element(group: number, el: number, vr: string, value: Uint8Array, implicit = false): Uint8Array {
  if (implicit) {
    // Implicit VR: tag, 4-byte length, value (PS3.5 §7.1.3).
    const head = new Uint8Array(8);
    const dv = new DataView(head.buffer);
    dv.setUint16(0, group, true);
    dv.setUint16(2, el, true);
    dv.setUint32(4, value.length, true);
    const out = new Uint8Array(8 + value.length);
    out.set(head);
    out.set(value, 8);
    return out;
  }
  const long = LONG_VRS.has(vr);
  const head = new Uint8Array(long ? 12 : 8);
  const dv = new DataView(head.buffer);
  dv.setUint16(0, group, true);
  dv.setUint16(2, el, true);
  head[4] = vr.charCodeAt(0);
  head[5] = vr.charCodeAt(1);
  if (long) dv.setUint32(8, value.length, true);
  else dv.setUint16(6, value.length, true);
  const out = new Uint8Array(head.length + value.length);
  out.set(head);
  out.set(value, head.length);
  return out;
}

const text = (s: string, pad: string) => new TextEncoder().encode(s.length % 2 ? s + pad : s);
const us = (v: number) => new Uint8Array(new Uint16Array([v]).buffer);
const ul = (v: number) => new Uint8Array(new Uint32Array([v]).buffer);
const concat = (parts: Uint8Array[]) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};

/** A part-10 DICOM file with one grey frame. */
export function dicomBytes(spec: DicomSpec): Uint8Array {
  const bitsAllocated = spec.bitsAllocated ?? 16;
  const meta = concat([
    element(2, 1, 'OB', Uint8Array.of(0, 1)),
    element(2, 2, 'UI', text('1.2.840.10008.5.1.4.1.1.7', '\0')),
    element(2, 3, 'UI', text('1.2.3.4.5', '\0')),
    element(2, 0x10, 'UI', text(spec.transferSyntax ?? '1.2.840.10008.1.2.1', '\0')),
  ]);
  const pixelBytes =
    bitsAllocated === 8
      ? Uint8Array.from(spec.pixels.map((v) => v & 0xff))
      : new Uint8Array(Uint16Array.from(spec.pixels.map((v) => v & 0xffff)).buffer);
  const implicit = spec.transferSyntax === '1.2.840.10008.1.2';
  const e = (g: number, el: number, vr: string, v: Uint8Array) => element(g, el, vr, v, implicit);
  const body = concat([
    e(0x28, 2, 'US', us(1)),
    e(0x28, 4, 'CS', text(spec.photometric ?? 'MONOCHROME2', ' ')),
    e(0x28, 0x10, 'US', us(spec.rows)),
    e(0x28, 0x11, 'US', us(spec.cols)),
    e(0x28, 0x100, 'US', us(bitsAllocated)),
    e(0x28, 0x101, 'US', us(spec.bitsStored ?? bitsAllocated)),
    e(0x28, 0x102, 'US', us((spec.bitsStored ?? bitsAllocated) - 1)),
    e(0x28, 0x103, 'US', us(spec.signed ? 1 : 0)),
    e(0x28, 0x1052, 'DS', text(String(spec.intercept ?? 0), ' ')),
    e(0x28, 0x1053, 'DS', text(String(spec.slope ?? 1), ' ')),
    e(0x7fe0, 0x10, bitsAllocated === 8 ? 'OB' : 'OW', pixelBytes),
  ]);
  const preamble = new Uint8Array(132);
  preamble.set(new TextEncoder().encode('DICM'), 128);
  return concat([preamble, element(2, 0, 'UL', ul(meta.length)), meta, body]);
}

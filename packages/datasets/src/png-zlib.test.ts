import zlib from 'node:zlib';
import { Rng } from '@squid-ad/backend';
import { decode as fastPngDecode, encode as fastPngEncode } from 'fast-png';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { interleavedToGrey } from './grey-image.js';
import { decodePngGrey } from './png-codec.js';
import { decodePngZlib } from './png-zlib.js';

// The reference: fast-png's samples through the shared grey conversion (the path png-zlib replaces).
function viaFastPng(bytes: Uint8Array): Float32Array {
  const png = fastPngDecode(bytes, { checkCrc: true });
  return interleavedToGrey(png.data, png.width * png.height, png.channels, 2 ** png.depth - 1);
}

// pngjs writes the fixtures (an encoder independent of both decoders), one filter type for all rows.
function pngjsFile(
  width: number,
  height: number,
  colorType: 0 | 2 | 4 | 6,
  bitDepth: 8 | 16,
  filterType: number,
  seed: number,
): Uint8Array {
  const rng = Rng.fromSeed(seed);
  const max = bitDepth === 16 ? 65535 : 255;
  const rgba = Array.from({ length: width * height * 4 }, () => Math.floor(rng.uniform(0, max + 1)));
  const png = new PNG({ width, height, colorType, bitDepth, inputColorType: 6, inputHasAlpha: true });
  png.data = (bitDepth === 16 ? Buffer.from(new Uint16Array(rgba).buffer) : Buffer.from(rgba)) as Buffer;
  const opts = { colorType, bitDepth, inputColorType: 6, inputHasAlpha: true, filterType } as const;
  return new Uint8Array(PNG.sync.write(png, opts));
}

interface Chunk {
  type: string;
  data: Uint8Array;
}

function chunks(bytes: Uint8Array): Chunk[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Chunk[] = [];
  for (let o = 8; o < bytes.length; ) {
    const length = view.getUint32(o);
    out.push({
      type: Buffer.from(bytes.subarray(o + 4, o + 8)).toString('latin1'),
      data: bytes.slice(o + 8, o + 8 + length),
    });
    o += 12 + length;
  }
  return out;
}

function pngFile(list: Chunk[]): Uint8Array {
  const parts: Uint8Array[] = [Uint8Array.of(0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a)];
  for (const { type, data } of list) {
    const head = Buffer.alloc(8);
    head.writeUInt32BE(data.length, 0);
    head.write(type, 4, 'latin1');
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(zlib.crc32(Buffer.concat([head.subarray(4), data])), 0);
    parts.push(head, data, crc);
  }
  return new Uint8Array(Buffer.concat(parts));
}

// Rewrites the pixel stream of a PNG: `edit` gets the inflated rows (filter byte first).
function withRawRows(bytes: Uint8Array, edit: (raw: Buffer) => Buffer): Uint8Array {
  const list = chunks(bytes);
  const idat = Buffer.concat(list.filter((c) => c.type === 'IDAT').map((c) => c.data));
  const data = new Uint8Array(zlib.deflateSync(edit(zlib.inflateSync(idat))));
  const rest = list.filter((c) => c.type !== 'IDAT');
  return pngFile([...rest.slice(0, -1), { type: 'IDAT', data }, rest[rest.length - 1]]);
}

describe('decodePngZlib', () => {
  const layouts = [
    ['grey', 0],
    ['grey+alpha', 4],
    ['RGB', 2],
    ['RGBA', 6],
  ] as const;
  for (const [name, colorType] of layouts) {
    for (const depth of [8, 16] as const) {
      it(`${depth}-bit ${name}: equal to fast-png for filters none, sub, up, average, paeth, adaptive`, () => {
        for (const filter of [0, 1, 2, 3, 4, -1]) {
          const bytes = pngjsFile(13, 7, colorType, depth, filter, 10 * colorType + depth + filter);
          const got = decodePngZlib(bytes, 'f.png');
          expect(got?.width).toBe(13);
          expect(got?.height).toBe(7);
          expect(Array.from(got?.data ?? [])).toEqual(Array.from(viaFastPng(bytes)));
        }
      });
    }
  }

  it('reads pixel data split over several IDAT chunks', () => {
    const bytes = pngjsFile(32, 16, 0, 16, -1, 3);
    const list = chunks(bytes);
    const idat = list.find((c) => c.type === 'IDAT')?.data ?? new Uint8Array();
    const third = Math.ceil(idat.length / 3);
    const split = list.flatMap((c) =>
      c.type === 'IDAT'
        ? [0, 1, 2].map((k) => ({ type: 'IDAT', data: idat.slice(k * third, (k + 1) * third) }))
        : [c],
    );
    const got = decodePngZlib(pngFile(split), 's.png');
    expect(Array.from(got?.data ?? [])).toEqual(Array.from(viaFastPng(bytes)));
    // 16-bit values survive exactly: 1/65535 steps, not 1/255.
    expect(got?.data[0]).toBe(Math.fround(viaFastPng(bytes)[0]));
  });

  it('leaves palette, 1-bit and interlaced images to fast-png', () => {
    const bits = fastPngEncode({
      width: 10,
      height: 1,
      depth: 1,
      channels: 1,
      data: Uint8Array.of(0b10110000, 0b01000000),
    });
    expect(decodePngZlib(bits, 'b.png')).toBeUndefined();
    const list = chunks(pngjsFile(4, 4, 0, 8, 0, 1));
    const ihdr = list[0].data.slice();
    ihdr[12] = 1; // Adam7
    expect(decodePngZlib(pngFile([{ type: 'IHDR', data: ihdr }, ...list.slice(1)]), 'i.png')).toBeUndefined();
    ihdr[12] = 0;
    ihdr[9] = 3; // palette
    expect(decodePngZlib(pngFile([{ type: 'IHDR', data: ihdr }, ...list.slice(1)]), 'p.png')).toBeUndefined();
  });

  it('bytes after the last row: fast-png decodes them as before', () => {
    const bytes = pngjsFile(5, 5, 0, 8, 1, 4);
    const padded = withRawRows(bytes, (raw) => Buffer.concat([raw, Buffer.alloc(7)]));
    expect(decodePngZlib(padded, 'x.png')).toBeUndefined();
    expect(Array.from(decodePngGrey(padded, 'x.png').data)).toEqual(Array.from(viaFastPng(bytes)));
  });

  it('bad input names the file and the reason', () => {
    const bytes = pngjsFile(6, 3, 0, 8, 0, 5);
    const badFilter = withRawRows(bytes, (raw) => {
      raw[7] = 9; // filter byte of row 1
      return raw;
    });
    expect(() => decodePngZlib(badFilter, 'f.png')).toThrow(
      /^f\.png: corrupt PNG \(unknown filter type 9 in row 1\)$/,
    );
    const short = withRawRows(bytes, (raw) => raw.subarray(0, 10));
    expect(() => decodePngZlib(short, 's.png')).toThrow(
      /^s\.png: truncated PNG: 10 of 21 bytes of pixel data for 6×3×1$/,
    );
    const list = chunks(bytes);
    const garbage = list.map((c) =>
      c.type === 'IDAT' ? { type: 'IDAT', data: Uint8Array.of(1, 2, 3, 4) } : c,
    );
    expect(() => decodePngZlib(pngFile(garbage), 'z.png')).toThrow(/^z\.png: corrupt PNG \(/);
    const noData = list.filter((c) => c.type !== 'IDAT');
    expect(() => decodePngZlib(pngFile(noData), 'n.png')).toThrow(/^n\.png: corrupt PNG \(no IDAT chunk\)$/);
    const crc = bytes.slice();
    crc[crc.length - 20] ^= 1;
    expect(() => decodePngZlib(crc, 'c.png')).toThrow(/^c\.png: corrupt PNG \(CRC mismatch in chunk IDAT\)$/);
    expect(() => decodePngZlib(bytes.subarray(0, 45), 't.png')).toThrow(
      /^t\.png: truncated PNG: chunk IDAT runs past/,
    );
  });
});

import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { describe, expect, it } from 'vitest';
import { decodeImage, decodeImageAsync } from './decode-image.js';
import { BadImageError } from './grey-image.js';
import { dicomBytes } from './test-fixtures.js';

const close = (got: Float32Array, want: number[], tol = 1e-6) => {
  expect(got.length).toBe(want.length);
  want.forEach((w, i) => {
    expect(Math.abs(got[i] - w)).toBeLessThanOrEqual(tol);
  });
};

// pngjs is a second, independent PNG encoder: fixtures are not round trips through our decoder's library.
function pngjsBytes(
  width: number,
  height: number,
  rgba: number[],
  opts: { colorType: 0 | 2 | 6; bitDepth: 8 | 16 },
) {
  const png = new PNG({
    width,
    height,
    colorType: opts.colorType,
    bitDepth: opts.bitDepth,
    inputColorType: 6,
    inputHasAlpha: true,
  });
  png.data = (opts.bitDepth === 16 ? Buffer.from(new Uint16Array(rgba).buffer) : Buffer.from(rgba)) as Buffer;
  return new Uint8Array(
    PNG.sync.write(png, {
      colorType: opts.colorType,
      bitDepth: opts.bitDepth,
      inputColorType: 6,
      inputHasAlpha: true,
    }),
  );
}

describe('decodeImage: PNG', () => {
  it('8-bit grey gives value/255', () => {
    const bytes = pngjsBytes(2, 2, [0, 0, 0, 255, 51, 51, 51, 255, 128, 128, 128, 255, 255, 255, 255, 255], {
      colorType: 0,
      bitDepth: 8,
    });
    const img = decodeImage(bytes, 'g8.png');
    expect([img.width, img.height]).toEqual([2, 2]);
    close(img.data, [0, 0.2, 128 / 255, 1]);
  });

  it('16-bit grey keeps the full 16-bit resolution (value/65535)', () => {
    const bytes = encodePng({
      width: 4,
      height: 1,
      depth: 16,
      channels: 1,
      data: Uint16Array.of(0, 1, 32768, 65535),
    });
    close(decodeImage(bytes, 'g16.png').data, [0, 1 / 65535, 32768 / 65535, 1], 1e-8);
  });

  it('16-bit grey from pngjs', () => {
    const v = [0, 1000, 40000, 65535];
    const rgba = v.flatMap((x) => [x, x, x, 65535]);
    const bytes = pngjsBytes(4, 1, rgba, { colorType: 0, bitDepth: 16 });
    close(
      decodeImage(bytes, 'p16.png').data,
      v.map((x) => x / 65535),
      1e-7,
    );
  });

  it('RGB and RGBA become ITU-R 601 luma, alpha ignored', () => {
    const rgba = [255, 0, 0, 255, 0, 255, 0, 10, 0, 0, 255, 0, 10, 20, 30, 255];
    const want = [0.299, 0.587, 0.114, (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255];
    // pngjs blends alpha into RGB output, so the RGB fixture is opaque.
    const opaque = rgba.map((v, i) => (i % 4 === 3 ? 255 : v));
    close(decodeImage(pngjsBytes(4, 1, opaque, { colorType: 2, bitDepth: 8 }), 'rgb.png').data, want, 1e-6);
    close(decodeImage(pngjsBytes(4, 1, rgba, { colorType: 6, bitDepth: 8 }), 'rgba.png').data, want, 1e-6);
  });

  it('1-bit grey and palette images', () => {
    const bits = encodePng({
      width: 10,
      height: 1,
      depth: 1,
      channels: 1,
      data: Uint8Array.of(0b10110000, 0b01000000),
    });
    close(decodeImage(bits, 'b1.png').data, [1, 0, 1, 1, 0, 0, 0, 0, 0, 1]);
    const pal = encodePng({
      width: 3,
      height: 1,
      depth: 8,
      channels: 1,
      data: Uint8Array.of(2, 0, 1),
      palette: [
        [0, 0, 0],
        [255, 255, 255],
        [255, 0, 0],
      ],
    });
    close(decodeImage(pal, 'pal.png').data, [0.299, 0, 1], 1e-6);
  });
});

describe('decodeImage: JPEG', () => {
  it('flat 8×8 blocks decode to their grey level within 1/255', () => {
    const levels = [0, 64, 128, 255];
    const w = 32;
    const h = 8;
    const rgba = new Uint8Array(w * h * 4);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const v = levels[Math.floor(x / 8)];
        rgba.set([v, v, v, 255], (y * w + x) * 4);
      }
    }
    const bytes = jpeg.encode({ width: w, height: h, data: rgba }, 100).data;
    const img = decodeImage(new Uint8Array(bytes), 'flat.jpg');
    expect([img.width, img.height]).toEqual([32, 8]);
    levels.forEach((v, b) => {
      for (let x = b * 8; x < b * 8 + 8; x++)
        expect(Math.abs(img.data[4 * w + x] - v / 255)).toBeLessThanOrEqual(1.5 / 255);
    });
  });
});

describe('decodeImage: DICOM', () => {
  it('MONOCHROME2 applies slope/intercept and maps min..max to [0,1]', () => {
    const bytes = dicomBytes({ rows: 1, cols: 4, pixels: [0, 100, 200, 400], slope: 2, intercept: -1000 });
    const img = decodeImage(bytes, 'm2.dcm');
    expect([img.width, img.height]).toEqual([4, 1]);
    close(img.data, [0, 0.25, 0.5, 1]);
  });

  it('MONOCHROME1 is inverted (high stored value = dark)', () => {
    const bytes = dicomBytes({ rows: 2, cols: 2, pixels: [0, 100, 200, 400], photometric: 'MONOCHROME1' });
    close(decodeImage(bytes, 'm1.dcm').data, [1, 0.75, 0.5, 0]);
  });

  it('signed 12-bit stored values are sign-extended', () => {
    // -2048 stored as 0x800 in 12 bits, -1 as 0xfff; high bits hold garbage that must be masked off.
    const bytes = dicomBytes({
      rows: 1,
      cols: 3,
      pixels: [0xf800, 0x0fff, 0x07ff],
      bitsStored: 12,
      signed: true,
    });
    close(decodeImage(bytes, 's12.dcm').data, [0, 2047 / 4095, 1]);
  });

  it('implicit VR little endian (the default transfer syntax)', () => {
    const bytes = dicomBytes({
      rows: 1,
      cols: 3,
      pixels: [100, 300, 500],
      transferSyntax: '1.2.840.10008.1.2',
    });
    close(decodeImage(bytes, 'iv.dcm').data, [0, 0.5, 1]);
  });

  it('8-bit DICOM', () => {
    close(
      decodeImage(dicomBytes({ rows: 1, cols: 3, pixels: [10, 20, 30], bitsAllocated: 8 }), 'u8.dcm').data,
      [0, 0.5, 1],
    );
  });

  it('refuses compressed transfer syntaxes and truncated pixel data, naming the file', () => {
    const jpegLs = dicomBytes({ rows: 1, cols: 2, pixels: [1, 2], transferSyntax: '1.2.840.10008.1.2.4.80' });
    expect(() => decodeImage(jpegLs, 'c.dcm')).toThrow(
      /c\.dcm: DICOM transfer syntax 1\.2\.840\.10008\.1\.2\.4\.80/,
    );
    const full = dicomBytes({ rows: 8, cols: 8, pixels: Array(64).fill(7) });
    expect(() => decodeImage(full.subarray(0, full.length - 10), 't.dcm')).toThrow(
      /t\.dcm: (truncated|corrupt) DICOM/,
    );
  });
});

describe('decodeImage: bad input', () => {
  const png = encodePng({
    width: 16,
    height: 16,
    depth: 8,
    channels: 1,
    data: new Uint8Array(256).map((_, i) => i),
  });

  it.each([
    ['empty', new Uint8Array(0), /empty\.png: empty file/],
    ['text', new TextEncoder().encode('hello, not an image at all'), /text\.png: not an image/],
    ['truncated PNG', png.subarray(0, 60), /truncated PNG\.png: (corrupt|truncated) PNG/],
  ])('%s', (name, bytes, re) => {
    expect(() => decodeImage(bytes, `${name}.png`)).toThrow(re);
    expect(() => decodeImage(bytes, `${name}.png`)).toThrow(BadImageError);
  });

  it('corrupt PNG data (CRC mismatch)', () => {
    const bad = png.slice();
    bad[50] ^= 0xff;
    expect(() => decodeImage(bad, 'crc.png')).toThrow(/crc\.png: corrupt PNG/);
  });

  it('truncated JPEG', () => {
    const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i * 7) % 251);
    const jpg = new Uint8Array(jpeg.encode({ width: 64, height: 64, data: rgba }, 90).data);
    expect(() => decodeImage(jpg.subarray(0, Math.floor(jpg.length / 2)), 'half.jpg')).toThrow(
      /half\.jpg: corrupt JPEG/,
    );
  });

  it('refuses images over the pixel limit before decoding', () => {
    expect(() => decodeImage(png, 'big.png', { maxPixels: 255 })).toThrow(
      /big\.png: image too large: 16×16 = 256 pixels/,
    );
    // A header claiming 100k×100k on a tiny file: refused from the header alone.
    const bomb = png.slice();
    new DataView(bomb.buffer).setUint32(16, 100_000);
    new DataView(bomb.buffer).setUint32(20, 100_000);
    expect(() => decodeImage(bomb, 'bomb.png')).toThrow(/bomb\.png: image too large/);
    const dcm = dicomBytes({ rows: 4, cols: 4, pixels: Array(16).fill(1) });
    expect(() => decodeImage(dcm, 'big.dcm', { maxPixels: 15 })).toThrow(/big\.dcm: image too large/);
  });
});

describe('decodeImageAsync: sharp (native) matches the JS decoders', async () => {
  const { loadSharp } = await import('./sharp-codec.js');
  const hasSharp = (await loadSharp()) !== null;
  const sharp = (bytes: Uint8Array, path: string, maxPixels?: number) =>
    decodeImageAsync(bytes, path, { decoder: 'sharp', maxPixels });
  const maxDiff = (a: Float32Array, b: Float32Array) =>
    a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);

  it.runIf(hasSharp)('PNG 1/8/16-bit grey, RGB, RGBA, palette: identical values', async () => {
    const fixtures: [string, Uint8Array][] = [
      [
        'g16',
        encodePng({ width: 4, height: 1, depth: 16, channels: 1, data: Uint16Array.of(0, 1, 32768, 65535) }),
      ],
      [
        'g8',
        encodePng({
          width: 16,
          height: 16,
          depth: 8,
          channels: 1,
          data: new Uint8Array(256).map((_, i) => i),
        }),
      ],
      [
        'b1',
        encodePng({
          width: 10,
          height: 1,
          depth: 1,
          channels: 1,
          data: Uint8Array.of(0b10110000, 0b01000000),
        }),
      ],
      [
        'rgb',
        pngjsBytes(4, 1, [255, 0, 0, 255, 0, 255, 0, 255, 0, 0, 255, 255, 10, 20, 30, 255], {
          colorType: 2,
          bitDepth: 8,
        }),
      ],
      ['rgba', pngjsBytes(2, 1, [255, 0, 0, 7, 10, 20, 30, 255], { colorType: 6, bitDepth: 8 })],
      [
        'rgb16',
        pngjsBytes(2, 1, [65535, 0, 0, 65535, 1000, 2000, 3000, 65535], { colorType: 2, bitDepth: 16 }),
      ],
      [
        'pal',
        encodePng({
          width: 3,
          height: 1,
          depth: 8,
          channels: 1,
          data: Uint8Array.of(2, 0, 1),
          palette: [
            [0, 0, 0],
            [255, 255, 255],
            [255, 0, 0],
          ],
        }),
      ],
    ];
    for (const [name, bytes] of fixtures) {
      const js = decodeImage(bytes, `${name}.png`, { decoder: 'js' });
      const native = await sharp(bytes, `${name}.png`);
      expect([native.width, native.height], name).toEqual([js.width, js.height]);
      expect(maxDiff(native.data, js.data), name).toBeLessThan(1e-6);
    }
  });

  it.runIf(hasSharp)('JPEG within two grey levels of jpeg-js on a textured image', async () => {
    const w = 64;
    const rgba = new Uint8Array(w * w * 4);
    for (let i = 0; i < w * w; i++) {
      const v = Math.round(128 + 60 * Math.sin(i / 37) + 40 * Math.cos((i % w) / 5));
      rgba.set([v, v, v, 255], i * 4);
    }
    const bytes = new Uint8Array(jpeg.encode({ width: w, height: w, data: rgba }, 90).data);
    const js = decodeImage(bytes, 't.jpg');
    const native = await sharp(bytes, 't.jpg');
    expect(maxDiff(native.data, js.data)).toBeLessThanOrEqual(2.5 / 255);
  });

  it.runIf(hasSharp)('bad input names the file', async () => {
    const png = encodePng({
      width: 16,
      height: 16,
      depth: 8,
      channels: 1,
      data: new Uint8Array(256).map((_, i) => i),
    });
    await expect(sharp(new Uint8Array(0), 'e.png')).rejects.toThrow(/e\.png: empty file/);
    await expect(sharp(png.subarray(0, 60), 'tr.png')).rejects.toThrow(/tr\.png: corrupt PNG/);
    const crc = png.slice();
    crc[50] ^= 0xff;
    await expect(sharp(crc, 'crc.png')).rejects.toThrow(/crc\.png: corrupt PNG/);
    // Intact data behind a wrong IDAT CRC: libspng decodes it, the JS decoder refuses it; one
    // verdict and one message whatever the decoder.
    const idat = Buffer.from(png).indexOf('IDAT');
    const badCrc = png.slice();
    badCrc[idat + 4 + new DataView(png.buffer, png.byteOffset).getUint32(idat - 4)] ^= 0x01;
    for (const decoder of ['sharp', 'js'] as const)
      await expect(decodeImageAsync(badCrc, 'bad-crc.png', { decoder })).rejects.toThrow(
        'bad-crc.png: corrupt PNG (CRC mismatch for chunk IDAT)',
      );
    const rgba = new Uint8Array(64 * 64 * 4).map((_, i) => (i * 7) % 251);
    const jpg = new Uint8Array(jpeg.encode({ width: 64, height: 64, data: rgba }, 90).data);
    await expect(sharp(jpg.subarray(0, jpg.length >> 1), 'half.jpg')).rejects.toThrow(
      /half\.jpg: corrupt JPEG/,
    );
    await expect(sharp(png, 'big.png', 255)).rejects.toThrow(/big\.png: image too large/);
    // DICOM always takes the JS path.
    const dcm = dicomBytes({ rows: 1, cols: 2, pixels: [0, 10] });
    expect(Array.from((await sharp(dcm, 'd.dcm')).data)).toEqual([0, 1]);
  });
});

import jpeg from 'jpeg-js';
import { describe, expect, it } from 'vitest';
import { decodeImage } from './decode-image.js';
import { decodeJpegTurbo } from './jpeg-turbo.js';
import { loadSharp } from './sharp-codec.js';

const sharp = await loadSharp();

// A textured grey (or blue-yellow) image encoded by jpeg-js (three YCbCr components, 4:2:0 like most cameras).
function texturedJpeg(w: number, h: number, colour = false): Uint8Array {
  const rgba = new Uint8Array(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    const v = Math.round(128 + 60 * Math.sin(i / 37) + 40 * Math.cos((i % w) / 5));
    rgba.set([v, v, colour ? 255 - v : v, 255], i * 4);
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
}

describe('decodeJpegTurbo (libjpeg-turbo, WebAssembly)', () => {
  it('RGB: samples within one level of jpeg-js on grey content, grey values within 1.5/255 on colour', () => {
    for (const colour of [false, true]) {
      const bytes = texturedJpeg(61, 37, colour);
      const got = decodeJpegTurbo(bytes);
      expect(got && [got.width, got.height, got.components]).toEqual([61, 37, 3]);
      const ref = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false }).data;
      const luma = (d: ArrayLike<number>, i: number) =>
        0.299 * d[3 * i] + 0.587 * d[3 * i + 1] + 0.114 * d[3 * i + 2];
      let sample = 0;
      let grey = 0;
      for (let i = 0; i < ref.length; i++)
        sample = Math.max(sample, Math.abs((got?.data[i] ?? -99) - ref[i]));
      for (let i = 0; i < 61 * 37; i++)
        grey = Math.max(grey, Math.abs(luma(got?.data ?? [], i) - luma(ref, i)));
      if (!colour) expect(sample).toBeLessThanOrEqual(1);
      expect(grey).toBeLessThanOrEqual(1.5);
    }
  });

  it('decodeImage uses it: grey = ITU-R 601 luma of its samples / 255', () => {
    const bytes = texturedJpeg(16, 9);
    const s = decodeJpegTurbo(bytes);
    const img = decodeImage(bytes, 't.jpg');
    const j = 3 * 20;
    const want =
      (0.299 * (s?.data[j] ?? 0) + 0.587 * (s?.data[j + 1] ?? 0) + 0.114 * (s?.data[j + 2] ?? 0)) / 255;
    expect(img.data[20]).toBe(Math.fround(want));
  });

  it("refuses a truncated file (decodeImage then reports jpeg-js's reason)", () => {
    const bytes = texturedJpeg(64, 64);
    const half = bytes.subarray(0, bytes.length >> 1);
    expect(decodeJpegTurbo(half)).toBeUndefined();
    expect(decodeJpegTurbo(Uint8Array.of(0xff, 0xd8, 0xff, 1, 2, 3))).toBeUndefined();
    expect(() => decodeImage(half, 'half.jpg')).toThrow(/^half\.jpg: corrupt JPEG \(.+\)$/);
  });

  it('a second decode does not see the first image (the wasm buffer is copied out)', () => {
    const a = decodeJpegTurbo(texturedJpeg(8, 8));
    const before = Array.from(a?.data ?? []);
    decodeJpegTurbo(texturedJpeg(40, 40));
    expect(Array.from(a?.data ?? [])).toEqual(before);
  });

  // jpeg-js encodes colour only; sharp (optional) writes the one-component JPEGs of real X-ray sets.
  it.runIf(sharp !== null)('one-component grey JPEG: v / 255', async () => {
    if (!sharp) return;
    const raw = Buffer.from(Uint8Array.from({ length: 24 * 16 }, (_, i) => (i % 24 < 12 ? 40 : 200)));
    const bytes = new Uint8Array(
      await sharp(raw, { raw: { width: 24, height: 16, channels: 1 } })
        .toColourspace('b-w')
        .jpeg({ quality: 100 })
        .toBuffer(),
    );
    const s = decodeJpegTurbo(bytes);
    expect(s?.components).toBe(1);
    const img = decodeImage(bytes, 'g.jpg');
    expect(Math.abs(img.data[2] - 40 / 255)).toBeLessThanOrEqual(1 / 255);
    expect(Math.abs(img.data[22] - 200 / 255)).toBeLessThanOrEqual(1 / 255);
    expect(img.data[22]).toBe(Math.fround((s?.data[22] ?? 0) / 255));
  });
});

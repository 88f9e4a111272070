import { describe, expect, it } from 'vitest';
import { resize } from './resize.js';

const img = (width: number, height: number, data: number[]) => ({
  width,
  height,
  data: Float32Array.from(data),
});

describe('resize', () => {
  it('area: 4×4 → 2×2 gives the 2×2 block means', () => {
    const src = img(4, 4, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]);
    expect(Array.from(resize(src, 2, 2).data)).toEqual([3.5, 5.5, 11.5, 13.5]);
  });

  it('area: 3 → 2 weighs the shared middle pixel by half', () => {
    const out = resize(img(3, 1, [3, 6, 9]), 2, 1, 'area').data;
    expect(out[0]).toBeCloseTo((3 + 0.5 * 6) / 1.5, 6);
    expect(out[1]).toBeCloseTo((0.5 * 6 + 9) / 1.5, 6);
  });

  it('bilinear upscale uses half-pixel centres (align_corners = false)', () => {
    const out = resize(img(2, 1, [0, 1]), 4, 1).data;
    expect(Array.from(out)).toEqual([0, 0.25, 0.75, 1]);
  });

  it('keeps a constant image constant and resizes without cropping (aspect not kept)', () => {
    const out = resize(img(1000, 700, Array(700_000).fill(0.3)), 128, 128);
    expect([out.width, out.height]).toEqual([128, 128]);
    expect(Math.max(...out.data.map((v) => Math.abs(v - 0.3)))).toBeLessThan(1e-6);
    // A bright left column survives a direct resize (a centre crop would drop it).
    const edge = new Float32Array(1000 * 700);
    for (let y = 0; y < 700; y++) edge.fill(1, y * 1000, y * 1000 + 40);
    const r = resize({ width: 1000, height: 700, data: edge }, 125, 125).data;
    expect(r[0]).toBeCloseTo(1, 5);
    expect(r[4]).toBeCloseTo(1, 5);
    expect(r[5]).toBeCloseTo(0, 5);
  });

  it('mean is preserved by area downscaling with a non-integer factor', () => {
    const data = Array.from({ length: 300 * 300 }, (_, i) => Math.sin(i) * 0.5 + 0.5);
    const out = resize(img(300, 300, data), 128, 128).data;
    const mean = (a: ArrayLike<number>) => Array.from(a).reduce((s, v) => s + v, 0) / a.length;
    expect(mean(out)).toBeCloseTo(mean(data), 4);
  });
});

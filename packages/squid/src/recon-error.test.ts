import { describe, expect, it } from 'vitest';
import { cellEdges, reconError } from './recon-error.js';

/** `[S, S]` image of `base`, with `set(x, y) = v` overrides. */
function image(size: number, base: number, pixels: Array<[number, number, number]> = []): number[] {
  const out = new Array<number>(size * size).fill(base);
  for (const [x, y, v] of pixels) out[y * size + x] = v;
  return out;
}

describe('reconError', () => {
  it('mean |recon − x| over the image and over the worst of the 2×2 cells, by hand', () => {
    // 4×4, cell 2. Errors: top-left cell 0.2 at all 4 pixels (sum 0.8, mean 0.2); top-right one
    // pixel 0.9 (mean 0.225); bottom-left two pixels where the recon is *below* the input by 0.5
    // (mean 0.25, the worst); bottom-right none. Total 0.8 + 0.9 + 1.0 = 2.7 over 16 pixels.
    const input = image(4, 0.1, [
      [0, 2, 0.6],
      [1, 3, 0.6],
    ]);
    const recon = image(4, 0.1, [
      [0, 0, 0.3],
      [1, 0, 0.3],
      [0, 1, 0.3],
      [1, 1, 0.3],
      [3, 1, 1.0],
    ]);
    const e = reconError(input, recon, 4, 2);
    expect(e.l1).toBeCloseTo(2.7 / 16, 14);
    expect(e.worstCell).toBeCloseTo(0.25, 14);
    // one cell = the whole image; cells of one pixel = the largest pixel error
    expect(reconError(input, recon, 4, 4).worstCell).toBeCloseTo(2.7 / 16, 14);
    expect(reconError(input, recon, 4, 1).worstCell).toBeCloseTo(0.9, 14);
  });

  it('picks the digit cell of a 96-px DigitAnatomy image (3×3 cells of 32 px by default)', () => {
    // a 10×10 error of 0.5 inside cell 5 (row 1, column 2): x 70..79, y 40..49
    const pixels: Array<[number, number, number]> = [];
    for (let y = 40; y < 50; y++) for (let x = 70; x < 80; x++) pixels.push([x, y, 0.5]);
    const input = new Float32Array(image(96, 0));
    const recon = new Float32Array(image(96, 0, pixels));
    const e = reconError(input, recon, 96);
    expect(e.l1).toBe((0.5 * 100) / (96 * 96));
    expect(e.worstCell).toBe((0.5 * 100) / (32 * 32));
    // 4×4 cells of 32 px on 128-px chest images
    expect(cellEdges(128, 32)).toEqual([0, 32, 64, 96, 128]);
    expect(cellEdges(96, 32)).toEqual([0, 32, 64, 96]);
  });

  it('lets the last row and column of cells absorb the remainder when S is not a multiple of the cell', () => {
    // 5 px, cell 2: floor(5/2) = 2 cells per side, of 2 and 3 px; the corner pixel (4, 4) is in
    // the 3×3 bottom-right cell (mean 1/9), not dropped. The 2×2 top-left cell has mean 0.3/4.
    expect(cellEdges(5, 2)).toEqual([0, 2, 5]);
    expect(cellEdges(100, 32)).toEqual([0, 32, 64, 100]);
    const input = image(5, 0);
    const recon = image(5, 0, [
      [4, 4, 1],
      [1, 1, 0.3],
    ]);
    const e = reconError(input, recon, 5, 2);
    expect(e.l1).toBeCloseTo(1.3 / 25, 14);
    expect(e.worstCell).toBeCloseTo(1 / 9, 14);
    // smaller than one cell: a single cell, the whole image
    expect(cellEdges(3, 32)).toEqual([0, 3]);
    expect(reconError(image(3, 0), image(3, 0, [[2, 2, 0.9]]), 3).worstCell).toBeCloseTo(0.1, 14);
  });

  it('names what is wrong with its input', () => {
    const a = image(4, 0);
    expect(() => reconError(a, image(3, 0), 4)).toThrow(/must have 4×4 = 16 values, got 16 and 9/);
    expect(() => reconError(a, a, 4, 0)).toThrow(/cell side must be a positive integer, got 0/);
    expect(() => reconError(a, a, 4, 1.5)).toThrow(/cell side must be a positive integer, got 1.5/);
    expect(() => reconError(a, a, 0)).toThrow(/image side must be a positive integer/);
  });
});

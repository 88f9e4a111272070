import { describe, expect, it } from 'vitest';
import { absDifference, inferno } from './heatmap.js';
import { imageGrid } from './image-grid.js';
import { decodePng } from './png-image.js';

const S = 8;
const constant = (v: number) => new Float32Array(S * S).fill(v);

describe('imageGrid', () => {
  it('lays out input | recon | diff rows per section and encodes a decodable PNG', () => {
    const input = constant(1);
    input[0] = 0; // top-left pixel black
    const pairs = [
      { size: S, input, recon: constant(0.5) },
      { size: S, input: constant(0.2), recon: constant(0.2) },
    ];
    const { png, layout } = imageGrid([
      { title: 'most', pairs: [pairs[0]] },
      { title: 'least', pairs: [pairs[1]] },
    ]);
    const img = decodePng(png);
    expect([img.width, img.height]).toEqual([layout.width, layout.height]);
    // 3 cells of 8 px + 4 pads of 4 px; 2 rows of 8+4, plus top pad and one 16 px section gap
    expect(layout.width).toBe(3 * 8 + 16);
    expect(layout.height).toBe(2 * 12 + 4 + 16);
    expect(layout.rows).toEqual([
      { section: 0, index: 0, y: 4 },
      { section: 1, index: 0, y: 32 },
    ]);
    expect(layout.diffScale).toBe(0.5); // largest |input − recon| in the grid
    const px = (x: number, y: number) =>
      Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    expect(px(4, 4)).toEqual([0, 0, 0]); // input top-left
    expect(px(5, 4)).toEqual([255, 255, 255]); // input elsewhere
    expect(px(4 + 8 + 4, 4)).toEqual([128, 128, 128]); // recon 0.5
    expect(px(4 + 2 * 12, 5)).toEqual(inferno(1)); // |1 − 0.5| / 0.5 → brightest
    expect(px(4 + 2 * 12, 32)).toEqual(inferno(0)); // identical → darkest
    expect(px(0, 0)).toEqual([255, 255, 255]); // padding
    expect(px(10, 4 + 12 + 4)).toEqual([200, 200, 200]); // section band
  });

  it('rejects mixed sizes and empty grids', () => {
    const a = { size: S, input: constant(0), recon: constant(0) };
    const b = { size: 4, input: new Float32Array(16), recon: new Float32Array(16) };
    expect(() => imageGrid([{ title: 'x', pairs: [a, b] }])).toThrow(/sizes 8 and 4/);
    expect(() => imageGrid([{ title: 'x', pairs: [] }])).toThrow(/no images/);
  });
});

describe('heatmap helpers', () => {
  it('inferno spans black-purple to pale yellow and clamps', () => {
    expect(inferno(0)).toEqual([0, 0, 4]);
    expect(inferno(1)).toEqual([252, 255, 164]);
    expect(inferno(2)).toEqual([252, 255, 164]);
    expect(inferno(0.125)).toEqual([44, 8, 57]); // halfway between the first two anchors
    expect(Array.from(absDifference(Float32Array.of(0.2, 1), Float32Array.of(0.5, 0.25)))).toEqual([
      Math.fround(0.3),
      0.75,
    ]);
  });
});

import { describe, expect, it } from 'vitest';
import { textWidth } from './grid-text.js';
import { absDifference, inferno } from './heatmap.js';
import { drawGrid, gridTextScale, imageGrid } from './image-grid.js';
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

describe('drawGrid with a header and row labels', () => {
  it('adds a header band and a label column of the documented size, text in them, pictures where the layout says', () => {
    const a = constant(0.25);
    const b = constant(0.75);
    const { png, layout } = drawGrid({
      cell: S,
      header: [['in'], ['model', 'it 7']],
      sections: [
        { rows: [{ cells: [{ grey: a }, { grey: b }], label: ['normal'] }] },
        { rows: [{ cells: [{ grey: b }, { diff: absDifference(a, b) }], label: ['swap'] }] },
      ],
    });
    const img = decodePng(png);
    const left = 4 + textWidth('normal');
    const top = 4 + 2 * 11; // two header lines of 11 px at scale 1
    expect(textWidth('normal')).toBeGreaterThan(20);
    expect(layout).toMatchObject({ top, left, textScale: 1, diffScale: 0.5 });
    expect([img.width, img.height]).toEqual([left + 2 * 12 + 4, top + 2 * 12 + 4 + 16]);
    expect(layout.columns).toEqual([left + 4, left + 16]);
    expect(layout.rows.map((r) => r.y)).toEqual([top + 4, top + 4 + 12 + 16]);
    const px = (x: number, y: number) =>
      Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
    expect(px(left + 4, top + 4)).toEqual([64, 64, 64]);
    expect(px(left + 16 + 7, top + 4 + 7)).toEqual([191, 191, 191]);
    expect(px(left + 16, top + 32)).toEqual(inferno(1)); // the diff cell of the second row
    const darkIn = (x0: number, x1: number, y0: number, y1: number) => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(x, y)[0] === 32) n++;
      return n;
    };
    expect(darkIn(layout.columns[1], layout.columns[1] + S, 0, top)).toBeGreaterThan(0); // "model" clipped to the cell
    expect(darkIn(0, left, layout.rows[0].y, layout.rows[0].y + S)).toBeGreaterThan(10); // "normal"
    expect(darkIn(0, img.width, 0, 4)).toBe(0);
  });

  it('scales the text with the picture size and refuses ragged rows', () => {
    expect([48, 96, 128, 191, 192, 256].map(gridTextScale)).toEqual([1, 1, 1, 1, 2, 2]);
    expect(textWidth('ab', 2)).toBe(2 * textWidth('ab'));
    expect(textWidth('Akçay')).toBe(textWidth('Akcay')); // accents dropped, not a missing glyph
    const a = constant(0);
    expect(() =>
      drawGrid({ cell: S, sections: [{ rows: [{ cells: [{ grey: a }] }, { cells: [] }] }] }),
    ).toThrow(/rows of 1 and 0 pictures/);
    expect(() =>
      drawGrid({ cell: S, header: [['x'], ['y']], sections: [{ rows: [{ cells: [{ grey: a }] }] }] }),
    ).toThrow(/2 column headers for 1 columns/);
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

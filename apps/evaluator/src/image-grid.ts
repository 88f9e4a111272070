import { absDifference, greyToRgb, heatmapToRgb } from './heatmap.js';
import { blankRgb, encodePng, type RgbImage } from './png-image.js';
import type { ImagePair } from './scored-item.js';

/** A titled block of rows in the grid, e.g. "most anomalous". */
export interface GridSection {
  title: string;
  pairs: ImagePair[];
}

/** Where each row landed, so the HTML can caption it. */
export interface GridLayout {
  width: number;
  height: number;
  cell: number;
  /** |input − recon| value drawn as the brightest heatmap colour (shared by all rows) */
  diffScale: number;
  rows: Array<{ section: number; index: number; y: number }>;
}

const PAD = 4;
const SECTION_GAP = 16;

function blit(dst: RgbImage, src: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < src.height; y++) {
    dst.data.set(
      src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3),
      ((y0 + y) * dst.width + x0) * 3,
    );
  }
}

/**
 * One PNG: per image a row of input | reconstruction | |difference| heatmap, sections stacked
 * with a grey band between them. One heatmap scale for the whole grid, so rows compare.
 */
export function imageGrid(sections: GridSection[]): { png: Buffer; layout: GridLayout } {
  const all = sections.flatMap((s) => s.pairs);
  if (all.length === 0) throw new Error('imageGrid: no images');
  const cell = all[0].size;
  for (const p of all) {
    if (p.size !== cell)
      throw new Error(`imageGrid: images of sizes ${cell} and ${p.size} cannot share a grid`);
  }
  const diffs = all.map((p) => absDifference(p.input, p.recon));
  let diffScale = 0;
  for (const d of diffs) for (const v of d) diffScale = Math.max(diffScale, v);
  diffScale = Math.max(diffScale, 1e-6);
  const width = 3 * cell + 4 * PAD;
  const nonEmpty = sections.filter((s) => s.pairs.length > 0).length;
  const height = all.length * (cell + PAD) + PAD + Math.max(0, nonEmpty - 1) * SECTION_GAP;
  const image = blankRgb(width, height);
  const rows: GridLayout['rows'] = [];
  let y = PAD;
  let k = 0;
  sections.forEach((section, s) => {
    if (section.pairs.length === 0) return;
    if (rows.length > 0) {
      blit(image, blankRgb(width, SECTION_GAP - PAD, [200, 200, 200]), 0, y);
      y += SECTION_GAP;
    }
    section.pairs.forEach((pair, index) => {
      blit(image, greyToRgb(pair.input, cell), PAD, y);
      blit(image, greyToRgb(pair.recon, cell), 2 * PAD + cell, y);
      blit(image, heatmapToRgb(diffs[k], cell, diffScale), 3 * PAD + 2 * cell, y);
      rows.push({ section: s, index, y });
      y += cell + PAD;
      k++;
    });
  });
  return { png: encodePng(image), layout: { width, height, cell, diffScale, rows } };
}

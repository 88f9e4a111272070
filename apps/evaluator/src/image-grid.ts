import { drawText, LINE_HEIGHT, textWidth } from './grid-text.js';
import { absDifference, greyToRgb, heatmapToRgb } from './heatmap.js';
import { blankRgb, encodePng, type RgbImage } from './png-image.js';
import type { ImagePair } from './scored-item.js';

/** A titled block of rows in the grid, e.g. "most anomalous". */
export interface GridSection {
  title: string;
  pairs: ImagePair[];
}

/** One picture of a grid row: a grey image, or a |difference| map drawn with the grid's one heatmap scale. */
export type GridCell = { grey: Float32Array } | { diff: Float32Array };

/** A row of pictures, each `[S, S]`, with text lines drawn left of it (e.g. its class). */
export interface GridRow {
  cells: GridCell[];
  label?: string[];
}

/** What {@link drawGrid} draws: sections of rows of equally many cells, and text above the columns. */
export interface GridSpec {
  /** side S of every picture, in pixels */
  cell: number;
  sections: Array<{ rows: GridRow[] }>;
  /** text lines above each column (a figure's header); none: no header band */
  header?: string[][];
}

/** Where each row landed, so the HTML can caption it. */
export interface GridLayout {
  width: number;
  height: number;
  cell: number;
  /** |input − recon| value drawn as the brightest heatmap colour (shared by all rows) */
  diffScale: number;
  rows: Array<{ section: number; index: number; y: number }>;
  /** x of each column's left edge */
  columns: number[];
  /** height of the header band above the first row (0 without a header) */
  top: number;
  /** width of the label column left of the first column (0 without labels) */
  left: number;
  /** each font pixel of the header and labels is this many pixels wide and high */
  textScale: number;
}

/** Space around and between pictures, in pixels. */
export const PAD = 4;
const SECTION_GAP = 16;
const TEXT_COLOUR: [number, number, number] = [32, 32, 32];

function blit(dst: RgbImage, src: RgbImage, x0: number, y0: number): void {
  for (let y = 0; y < src.height; y++) {
    dst.data.set(
      src.data.subarray(y * src.width * 3, (y + 1) * src.width * 3),
      ((y0 + y) * dst.width + x0) * 3,
    );
  }
}

/** Font scale of a grid's text: 1 up to 191 px pictures (the presets' 48–128 px), then 1 more per 96 px. */
export function gridTextScale(cell: number): number {
  return Math.max(1, Math.floor(cell / 96));
}

/**
 * One PNG of rows of pictures, sections stacked with a grey band between them, optionally with
 * a header band (text above each column) and a label column (text left of each row). One
 * heatmap scale for every difference map of the grid, so rows and columns compare.
 *
 * Geometry (S = `cell`, P = {@link PAD}, k = {@link gridTextScale}(S)):
 * top = P + (most header lines) · {@link LINE_HEIGHT} · k, or 0 without a header;
 * left = P + (widest label line at scale k), or 0 without labels;
 * width = left + columns · (S + P) + P; height = top + rows · (S + P) + P + 16 per section break.
 */
export function drawGrid(spec: GridSpec): { png: Buffer; layout: GridLayout } {
  const { cell } = spec;
  const all = spec.sections.flatMap((s) => s.rows);
  if (all.length === 0) throw new Error('imageGrid: no images');
  const ncol = all[0].cells.length;
  for (const row of all) {
    if (row.cells.length !== ncol)
      throw new Error(`imageGrid: rows of ${ncol} and ${row.cells.length} pictures cannot share a grid`);
    for (const c of row.cells) {
      const n = ('grey' in c ? c.grey : c.diff).length;
      if (n !== cell * cell)
        throw new Error(
          `imageGrid: images of sizes ${cell} and ${Math.round(Math.sqrt(n))} cannot share a grid`,
        );
    }
  }
  if (spec.header && spec.header.length !== ncol)
    throw new Error(`imageGrid: ${spec.header.length} column headers for ${ncol} columns`);
  let diffScale = 0;
  for (const row of all)
    for (const c of row.cells) if ('diff' in c) for (const v of c.diff) diffScale = Math.max(diffScale, v);
  diffScale = Math.max(diffScale, 1e-6);

  const textScale = gridTextScale(cell);
  const line = LINE_HEIGHT * textScale;
  const headerLines = Math.max(0, ...(spec.header ?? []).map((h) => h.length));
  const top = headerLines > 0 ? PAD + headerLines * line : 0;
  const labelWidth = Math.max(0, ...all.flatMap((r) => (r.label ?? []).map((l) => textWidth(l, textScale))));
  const left = labelWidth > 0 ? PAD + labelWidth : 0;
  const columns = Array.from({ length: ncol }, (_, c) => left + PAD + c * (cell + PAD));
  const width = left + ncol * (cell + PAD) + PAD;
  const nonEmpty = spec.sections.filter((s) => s.rows.length > 0).length;
  const height = top + all.length * (cell + PAD) + PAD + Math.max(0, nonEmpty - 1) * SECTION_GAP;
  const image = blankRgb(width, height);

  spec.header?.forEach((lines, c) => {
    lines.forEach((text, i) => {
      drawText(image, text, {
        x: columns[c],
        y: PAD + i * line,
        maxWidth: cell,
        scale: textScale,
        colour: TEXT_COLOUR,
      });
    });
  });
  const rows: GridLayout['rows'] = [];
  let y = top + PAD;
  spec.sections.forEach((section, s) => {
    if (section.rows.length === 0) return;
    if (rows.length > 0) {
      blit(image, blankRgb(width, SECTION_GAP - PAD, [200, 200, 200]), 0, y);
      y += SECTION_GAP;
    }
    section.rows.forEach((row, index) => {
      row.cells.forEach((c, k) => {
        const picture = 'grey' in c ? greyToRgb(c.grey, cell) : heatmapToRgb(c.diff, cell, diffScale);
        blit(image, picture, columns[k], y);
      });
      // the label's lines centred on the row
      const label = row.label ?? [];
      const y0 = y + Math.max(0, Math.floor((cell - label.length * line) / 2));
      label.forEach((text, i) => {
        drawText(image, text, {
          x: PAD,
          y: y0 + i * line,
          maxWidth: labelWidth,
          scale: textScale,
          colour: TEXT_COLOUR,
        });
      });
      rows.push({ section: s, index, y });
      y += cell + PAD;
    });
  });
  return {
    png: encodePng(image),
    layout: { width, height, cell, diffScale, rows, columns, top, left, textScale },
  };
}

/**
 * The evaluation report's grid: per image a row of input | reconstruction | |difference| heatmap,
 * sections stacked with a grey band between them. One heatmap scale for the whole grid, so rows compare.
 */
export function imageGrid(sections: GridSection[]): { png: Buffer; layout: GridLayout } {
  const all = sections.flatMap((s) => s.pairs);
  if (all.length === 0) throw new Error('imageGrid: no images');
  const cell = all[0].size;
  for (const p of all) {
    if (p.size !== cell)
      throw new Error(`imageGrid: images of sizes ${cell} and ${p.size} cannot share a grid`);
  }
  return drawGrid({
    cell,
    sections: sections.map((s) => ({
      rows: s.pairs.map((p) => ({
        cells: [{ grey: p.input }, { grey: p.recon }, { diff: absDifference(p.input, p.recon) }],
      })),
    })),
  });
}

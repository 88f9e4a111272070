// Captions drawn into a PNG (a figure's header and row labels), with a pixel font so that the
// image looks the same on every machine: no system fonts, no anti-aliasing.
import pixelFonts from 'js-pixel-fonts';
import type { RgbImage } from './png-image.js';

const FONT = pixelFonts.fonts.sevenPlus;

/** Height of one text line at scale 1: the font's 9 px (capitals 7, descenders 2) plus 2 px of space. */
export const LINE_HEIGHT = 11;

/** The font has printable ASCII only: accents are dropped (Akçay → Akcay), anything else becomes `?`. */
function printable(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/[^\x20-\x7e]/g, '?');
}

/** Rows of 0/1 pixels of `text` at scale 1. */
function pixels(text: string): number[][] {
  const t = printable(text);
  return t === '' ? [] : pixelFonts.renderPixels(t, FONT);
}

/** Width of `text` in pixels at `scale`. */
export function textWidth(text: string, scale = 1): number {
  return pixels(text).reduce((w, row) => Math.max(w, row.length), 0) * scale;
}

/**
 * Draws one line of `text` with its top-left corner at (x, y), each font pixel a `scale`×`scale`
 * block of `colour`; whatever falls right of `x + maxWidth` or outside the image is left out.
 */
export function drawText(
  image: RgbImage,
  text: string,
  at: { x: number; y: number; maxWidth: number; scale?: number; colour?: [number, number, number] },
): void {
  const scale = at.scale ?? 1;
  const colour = at.colour ?? [0, 0, 0];
  const right = Math.min(image.width, at.x + at.maxWidth);
  pixels(text).forEach((row, r) => {
    row.forEach((on, c) => {
      if (!on) return;
      for (let dy = 0; dy < scale; dy++) {
        const y = at.y + r * scale + dy;
        if (y < 0 || y >= image.height) continue;
        for (let dx = 0; dx < scale; dx++) {
          const x = at.x + c * scale + dx;
          if (x >= 0 && x < right) image.data.set(colour, (y * image.width + x) * 3);
        }
      }
    });
  });
}

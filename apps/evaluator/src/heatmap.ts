import type { RgbImage } from './png-image.js';

// Anchors of matplotlib's "inferno" colormap at 0, 0.25, 0.5, 0.75, 1: dark = no difference,
// bright yellow = large; perceptually uniform and readable in grey print.
const INFERNO: Array<[number, number, number]> = [
  [0, 0, 4],
  [87, 16, 110],
  [188, 55, 84],
  [249, 142, 9],
  [252, 255, 164],
];

/** Inferno colour of a value in [0, 1] (clamped). */
export function inferno(v: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, Number.isFinite(v) ? v : 0)) * (INFERNO.length - 1);
  const i = Math.min(INFERNO.length - 2, Math.floor(x));
  const f = x - i;
  const a = INFERNO[i];
  const b = INFERNO[i + 1];
  return [0, 1, 2].map((c) => Math.round(a[c] + f * (b[c] - a[c]))) as [number, number, number];
}

/** |input − recon| per pixel, `[S, S]`. */
export function absDifference(input: Float32Array, recon: Float32Array): Float32Array {
  if (input.length !== recon.length) {
    throw new Error(`absDifference: input has ${input.length} pixels, reconstruction ${recon.length}`);
  }
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = Math.abs(input[i] - recon[i]);
  return out;
}

/** A grey `[S, S]` image in [0, 1] as RGB. */
export function greyToRgb(grey: Float32Array, size: number): RgbImage {
  checkSquare(grey, size);
  const data = new Uint8Array(size * size * 3);
  for (let i = 0; i < grey.length; i++)
    data.fill(Math.round(Math.min(1, Math.max(0, grey[i])) * 255), i * 3, i * 3 + 3);
  return { width: size, height: size, data };
}

/** A `[S, S]` map coloured with inferno, `scale` mapping to the brightest colour. */
export function heatmapToRgb(values: Float32Array, size: number, scale: number): RgbImage {
  checkSquare(values, size);
  const data = new Uint8Array(size * size * 3);
  const s = scale > 0 ? scale : 1;
  for (let i = 0; i < values.length; i++) data.set(inferno(values[i] / s), i * 3);
  return { width: size, height: size, data };
}

function checkSquare(values: Float32Array, size: number): void {
  if (values.length !== size * size)
    throw new Error(`expected a ${size}×${size} image, got ${values.length} pixels`);
}

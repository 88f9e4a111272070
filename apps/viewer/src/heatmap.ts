// Pixels for the three pictures per image. `[S·S]` row-major grey in [0, 1] in, RGBA bytes out.

/** Grey `[S·S]` in [0, 1] → opaque RGBA. */
export function greyToRgba(grey: Float32Array): Uint8ClampedArray {
  const out = new Uint8ClampedArray(grey.length * 4);
  for (let i = 0; i < grey.length; i++) {
    const v = Math.round(grey[i] * 255);
    out.set([v, v, v, 255], i * 4);
  }
  return out;
}

/** |recon − input| per pixel. */
export function absDifference(input: Float32Array, recon: Float32Array): Float32Array {
  const out = new Float32Array(input.length);
  for (let i = 0; i < input.length; i++) out[i] = Math.abs(recon[i] - input[i]);
  return out;
}

/** Black → red → yellow → white for t in [0, 1] (the "hot" map: monotone in brightness). */
export function hot(t: number): [number, number, number] {
  const x = Math.min(1, Math.max(0, t)) * 3;
  return [Math.min(1, x), Math.min(1, Math.max(0, x - 1)), Math.min(1, Math.max(0, x - 2))].map((c) =>
    Math.round(c * 255),
  ) as [number, number, number];
}

/**
 * The difference as a heat map over the input: each pixel blends the grey input with the hot
 * colour of diff / max(diff) (that image's maximum, as `squid-eval score --heatmap` scales),
 * opacity growing with the difference so quiet regions show the anatomy.
 */
export function heatmapOverInput(input: Float32Array, diff: Float32Array): Uint8ClampedArray {
  let max = 1e-6;
  for (const d of diff) max = Math.max(max, d);
  const out = new Uint8ClampedArray(input.length * 4);
  for (let i = 0; i < input.length; i++) {
    const t = diff[i] / max;
    const [r, g, b] = hot(t);
    const grey = input[i] * 255;
    const a = Math.min(1, 0.15 + t);
    out.set([grey + (r - grey) * a, grey + (g - grey) * a, grey + (b - grey) * a, 255], i * 4);
  }
  return out;
}

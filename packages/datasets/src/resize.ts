import type { GreyImage } from './grey-image.js';

/** `area` averages the covered source pixels (downscaling), `bilinear` interpolates (half-pixel centres). */
export type ResizeFilter = 'area' | 'bilinear' | 'auto';

interface AxisWeights {
  start: Int32Array; // first source index per output index
  count: Int32Array; // number of taps
  weights: Float32Array[]; // taps per output index
}

function areaWeights(src: number, dst: number): AxisWeights {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights: Float32Array[] = [];
  for (let o = 0; o < dst; o++) {
    const a = o * scale;
    const b = (o + 1) * scale;
    const i0 = Math.floor(a);
    const i1 = Math.min(src, Math.ceil(b));
    const w = new Float32Array(i1 - i0);
    for (let i = i0; i < i1; i++) w[i - i0] = (Math.min(b, i + 1) - Math.max(a, i)) / scale;
    start[o] = i0;
    count[o] = i1 - i0;
    weights.push(w);
  }
  return { start, count, weights };
}

function bilinearWeights(src: number, dst: number): AxisWeights {
  const scale = src / dst;
  const start = new Int32Array(dst);
  const count = new Int32Array(dst);
  const weights: Float32Array[] = [];
  for (let o = 0; o < dst; o++) {
    const x = Math.min(src - 1, Math.max(0, (o + 0.5) * scale - 0.5));
    const i0 = Math.floor(x);
    const f = x - i0;
    if (i0 + 1 < src) {
      start[o] = i0;
      count[o] = 2;
      weights.push(Float32Array.of(1 - f, f));
    } else {
      start[o] = i0;
      count[o] = 1;
      weights.push(Float32Array.of(1));
    }
  }
  return { start, count, weights };
}

function axisWeights(src: number, dst: number, filter: ResizeFilter): AxisWeights {
  const useArea = filter === 'area' || (filter === 'auto' && dst < src);
  return useArea ? areaWeights(src, dst) : bilinearWeights(src, dst);
}

/**
 * Resizes `[H, W]` grey to `height × width` directly (no crop, aspect not kept), like the official
 * loaders' `Image.resize`. `auto` uses area averaging on shrinking axes and bilinear on growing ones.
 */
export function resize(
  image: GreyImage,
  width: number,
  height: number,
  filter: ResizeFilter = 'auto',
): GreyImage {
  if (image.width === width && image.height === height) {
    return { width, height, data: image.data.slice() };
  }
  const wx = axisWeights(image.width, width, filter);
  const wy = axisWeights(image.height, height, filter);
  // Per output row: the vertical taps summed into one source-width line (kept in L1 cache, the same
  // float32 rounding as a full intermediate image), then the horizontal taps over that line.
  const src = image.data;
  const W = image.width;
  const line = new Float32Array(W);
  const out = new Float32Array(width * height);
  for (let oy = 0; oy < height; oy++) {
    line.fill(0);
    const s = wy.start[oy];
    const w = wy.weights[oy];
    for (let k = 0; k < wy.count[oy]; k++) {
      const wk = w[k];
      const off = (s + k) * W;
      for (let x = 0; x < W; x++) line[x] += wk * src[off + x];
    }
    const row = oy * width;
    for (let ox = 0; ox < width; ox++) {
      const sx = wx.start[ox];
      const wxo = wx.weights[ox];
      let acc = 0;
      for (let k = 0; k < wx.count[ox]; k++) acc += wxo[k] * line[sx + k];
      out[row + ox] = acc;
    }
  }
  return { width, height, data: out };
}

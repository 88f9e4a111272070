/** An 8-bit grey image, row-major `[H, W]`. */
export interface GreyImage8 {
  width: number;
  height: number;
  data: Uint8Array;
}

// PIL's fixed point: 32 bits minus 8 for the pixel and 2 of headroom.
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

interface Taps {
  /** First source index per output index. */
  start: Int32Array;
  /** Number of taps per output index. */
  count: Int32Array;
  /** Fixed-point weights, `ksize` slots per output index. */
  k: Int32Array;
  ksize: number;
}

const tapCache = new Map<string, Taps>();

// The float steps follow PIL's precompute_coeffs operation by operation (same doubles, same order),
// so the fixed-point weights, and hence every output byte, come out identical.
function taps(inSize: number, outSize: number): Taps {
  const key = `${inSize}>${outSize}`;
  const hit = tapCache.get(key);
  if (hit) return hit;
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1); // antialiasing: the triangle widens when shrinking
  const support = filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const start = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const k = new Int32Array(outSize * ksize);
  const w = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    const lo = Math.max(0, Math.trunc(center - support + 0.5));
    const hi = Math.min(inSize, Math.trunc(center + support + 0.5));
    const n = hi - lo;
    let sum = 0;
    for (let i = 0; i < n; i++) {
      const x = Math.abs((i + lo - center + 0.5) * ss);
      w[i] = x < 1 ? 1 - x : 0;
      sum += w[i];
    }
    for (let i = 0; i < n; i++) {
      const v = sum !== 0 ? w[i] / sum : w[i];
      k[o * ksize + i] = Math.trunc(v < 0 ? v * ONE - 0.5 : v * ONE + 0.5);
    }
    start[o] = lo;
    count[o] = n;
  }
  const t = { start, count, k, ksize };
  tapCache.set(key, t);
  return t;
}

const clip8 = (acc: number) => Math.min(255, Math.max(0, acc >> PRECISION_BITS));

/**
 * Resizes like PIL's `Image.resize((width, height), BILINEAR)` on an 8-bit ('L') image, bit-exactly
 * (Pillow's Resample.c): triangle filter widened by the scale when shrinking (antialiasing), weights
 * normalised per output pixel then rounded to 22-bit fixed point, a horizontal pass then a vertical
 * one with a uint8 image in between, each pass skipped when its axis keeps its size.
 */
export function pilResizeBilinear(image: GreyImage8, width: number, height: number): GreyImage8 {
  const { width: w0, height: h0, data } = image;
  for (const [name, v] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`pilResizeBilinear: ${name} must be a positive integer, got ${v}`);
  }
  if (data.length !== w0 * h0)
    throw new Error(`pilResizeBilinear: ${w0}×${h0} image needs ${w0 * h0} bytes, got ${data.length}`);
  if (width === w0 && height === h0) return { width, height, data: data.slice() };
  const ty = taps(h0, height);
  let src = data;
  let srcWidth = w0;
  let rowOffset = 0;
  if (width !== w0) {
    // Only the source rows the vertical pass reads.
    const first = ty.start[0];
    const last = ty.start[height - 1] + ty.count[height - 1];
    const { start, count, k, ksize } = taps(w0, width);
    const tmp = new Uint8Array(width * (last - first));
    for (let y = first; y < last; y++) {
      const row = y * w0;
      const outRow = (y - first) * width;
      for (let o = 0; o < width; o++) {
        const s = row + start[o];
        const kk = o * ksize;
        const n = count[o];
        let acc = HALF;
        for (let i = 0; i < n; i++) acc += data[s + i] * k[kk + i];
        tmp[outRow + o] = clip8(acc);
      }
    }
    src = tmp;
    srcWidth = width;
    rowOffset = first;
  }
  if (height === h0) return { width, height, data: src };
  const { start, count, k, ksize } = ty;
  const out = new Uint8Array(width * height);
  for (let o = 0; o < height; o++) {
    const s = (start[o] - rowOffset) * srcWidth;
    const kk = o * ksize;
    const n = count[o];
    for (let x = 0; x < width; x++) {
      let acc = HALF;
      for (let i = 0; i < n; i++) acc += src[s + i * srcWidth + x] * k[kk + i];
      out[o * width + x] = clip8(acc);
    }
  }
  return { width, height, data: out };
}

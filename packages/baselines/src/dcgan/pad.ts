import { tf } from '@squid-ad/backend';

/** The smallest power of two ≥ `side` (and ≥ 16, the smallest size the DCGAN networks take). */
export function nextPowerOfTwo(side: number): number {
  if (!Number.isInteger(side) || side < 1)
    throw new Error(`nextPowerOfTwo: side must be a positive integer, got ${side}`);
  let p = 16;
  while (p < side) p *= 2;
  return p;
}

/**
 * Zero-pads `[B, S, S, C]` to `[B, P, P, C]`, P = {@link nextPowerOfTwo}(S), **centred**: ⌊(P − S)/2⌋
 * rows/columns before, the rest after (as anomalib's `pad_nextpow2` does for its GANomaly). Centred
 * rather than bottom-right so the image keeps the middle of every layer's receptive fields and the
 * stride-2 grid treats all four borders alike. Always returns a new tensor (a copy when S = P).
 */
export function padToPowerOfTwo(x: tf.Tensor4D): tf.Tensor4D {
  const [, h, w] = x.shape;
  if (h !== w) throw new Error(`padToPowerOfTwo: images must be square, got ${h}×${w}`);
  const p = nextPowerOfTwo(h);
  if (p === h) return x.clone();
  const before = Math.floor((p - h) / 2);
  const after = p - h - before;
  return tf.pad(x, [
    [0, 0],
    [before, after],
    [before, after],
    [0, 0],
  ]);
}

/** Undoes {@link padToPowerOfTwo}: the centred `[B, side, side, C]` window of `[B, P, P, C]` (a new tensor). */
export function cropTo(x: tf.Tensor4D, side: number): tf.Tensor4D {
  const [b, h, w, c] = x.shape;
  if (side > h || side > w) throw new Error(`cropTo: cannot crop ${h}×${w} to ${side}×${side}`);
  if (side === h && side === w) return x.clone();
  const top = Math.floor((h - side) / 2);
  const left = Math.floor((w - side) / 2);
  return tf.slice(x, [0, top, left, 0], [b, side, side, c]);
}

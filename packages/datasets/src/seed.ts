// murmur3's finaliser: spreads every input bit over the 32-bit result.
function fmix(h: number): number {
  let x = h | 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b);
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35);
  x ^= x >>> 16;
  return x;
}

/** A 32-bit seed derived from several integers, so (seed, epoch, index) streams are independent. */
export function mixSeed(...parts: number[]): number {
  let h = 0x9e3779b9;
  for (const p of parts) h = fmix(h ^ fmix(Math.imul(p | 0, 0x27d4eb2d) + 0x165667b1));
  return h | 0;
}

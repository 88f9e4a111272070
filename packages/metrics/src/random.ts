/**
 * A tiny seeded PRNG (mulberry32): uniform floats in [0, 1). Metrics has no dependency on
 * @squid-ad/backend's Rng, but bootstrap resampling must still be reproducible from a seed.
 */
export function seededRandom(seed: number): () => number {
  if (!Number.isInteger(seed)) throw new Error(`seededRandom: seed must be an integer, got ${seed}`);
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * PyTorch `CosineAnnealingLR` in closed form: the learning rate for epoch `t` (0-based, the
 * number of `scheduler.step()` calls so far) is `min + (base − min)(1 + cos(π t / tMax)) / 2`
 * with `min = base · minLrFactor`. Past `tMax` the cosine keeps going (it rises again), as in
 * PyTorch.
 */
export function cosineLr(base: number, t: number, tMax: number, minLrFactor: number): number {
  if (!(tMax > 0)) throw new Error(`cosineLr: tMax must be positive, got ${tMax}`);
  if (!Number.isInteger(t) || t < 0)
    throw new Error(`cosineLr: epoch must be a non-negative integer, got ${t}`);
  const min = base * minLrFactor;
  return min + ((base - min) * (1 + Math.cos((Math.PI * t) / tMax))) / 2;
}

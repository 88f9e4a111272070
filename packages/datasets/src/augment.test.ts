import { Rng } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { augmentAffine } from './augment.js';

const S = 32;
const pattern = Float32Array.from(
  { length: S * S },
  (_, i) => (((i % S) * 7 + Math.floor(i / S) * 3) % 11) / 10,
);

describe('augmentAffine', () => {
  it('is deterministic for a seed and differs across seeds', () => {
    const a = augmentAffine(pattern, Rng.fromSeed(5));
    const b = augmentAffine(pattern, Rng.fromSeed(5));
    const c = augmentAffine(pattern, Rng.fromSeed(6));
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(Array.from(a)).not.toEqual(Array.from(c));
  });

  it('without translation and scale 1 it is the identity', () => {
    const out = augmentAffine(pattern, Rng.fromSeed(1), { translate: 0, scale: [1, 1] });
    expect(Array.from(out)).toEqual(Array.from(pattern));
  });

  it('scale 1 is an integer shift within ±5 % of the side, zero-filled', () => {
    for (let seed = 0; seed < 20; seed++) {
      const out = augmentAffine(pattern, Rng.fromSeed(seed), { translate: 0.05, scale: [1, 1] });
      // Recover the shift: the one that reproduces the output exactly.
      let found: [number, number] | undefined;
      for (let ty = -2; ty <= 2 && !found; ty++) {
        for (let tx = -2; tx <= 2 && !found; tx++) {
          let ok = true;
          for (let y = 0; y < S && ok; y++) {
            for (let x = 0; x < S && ok; x++) {
              const sy = y - ty;
              const sx = x - tx;
              const want = sy >= 0 && sy < S && sx >= 0 && sx < S ? pattern[sy * S + sx] : 0;
              ok = Math.abs(out[y * S + x] - want) < 1e-6;
            }
          }
          if (ok) found = [tx, ty];
        }
      }
      expect(found).toBeDefined();
      expect(Math.abs(found![0])).toBeLessThanOrEqual(Math.round(0.05 * S));
    }
  });

  it('refuses a non-square image', () => {
    expect(() => augmentAffine(new Float32Array(12), Rng.fromSeed(1))).toThrow(
      /square \[S, S\] image, got 12 values/,
    );
  });

  it('zoom is about the centre: a centred disc grows with scale > 1', () => {
    const disc = Float32Array.from({ length: S * S }, (_, i) =>
      Math.hypot((i % S) - 15.5, Math.floor(i / S) - 15.5) < 8 ? 1 : 0,
    );
    const sum = (a: Float32Array) => a.reduce((s, v) => s + v, 0);
    const big = augmentAffine(disc, Rng.fromSeed(2), { translate: 0, scale: [1.2, 1.2] });
    expect(sum(big) / sum(disc)).toBeCloseTo(1.44, 1);
    expect(big[Math.floor(S / 2) * S + Math.floor(S / 2)]).toBe(1);
  });
});

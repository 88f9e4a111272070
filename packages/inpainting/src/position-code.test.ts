import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { NEIGHBOUR_OFFSETS, patchNeighbours } from './patch-neighbours.js';
import { positionBits, positionCode } from './position-code.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('positionCode', () => {
  it('uses ⌊log2 n⌋ + 1 bits, most significant first', () => {
    expect([1, 4, 8, 9, 16].map(positionBits)).toEqual([1, 3, 4, 4, 5]);
    expect(positionCode(9).arraySync()).toEqual([
      [0, 0, 0, 0],
      [0, 0, 0, 1],
      [0, 0, 1, 0],
      [0, 0, 1, 1],
      [0, 1, 0, 0],
      [0, 1, 0, 1],
      [0, 1, 1, 0],
      [0, 1, 1, 1],
      [1, 0, 0, 0],
    ]);
    expect(positionCode(4).arraySync()).toEqual([
      [0, 0, 0],
      [0, 0, 1],
      [0, 1, 0],
      [0, 1, 1],
    ]);
  });
});

describe('patchNeighbours', () => {
  it('lists the 8 neighbours in unfold order with zero vectors outside the grid', () => {
    // Two images of a 3×3 grid; patch n of image b carries the value 1 + 10·b + n.
    const labels = [0, 1].flatMap((b) =>
      Array.from({ length: 9 }, (_, n) => [1 + 10 * b + n, -(1 + 10 * b + n)]),
    );
    const nb = patchNeighbours(tf.tensor3d(labels.flat(), [2, 9, 2]), 3).arraySync();
    expect(NEIGHBOUR_OFFSETS).toHaveLength(8);
    for (let b = 0; b < 2; b++) {
      for (let n = 0; n < 9; n++) {
        const [r, c] = [Math.floor(n / 3), n % 3];
        const expected = NEIGHBOUR_OFFSETS.map(([dy, dx]) => {
          const [rr, cc] = [r + dy, c + dx];
          const inside = rr >= 0 && rr < 3 && cc >= 0 && cc < 3;
          const v = inside ? 1 + 10 * b + rr * 3 + cc : 0;
          return [v, v === 0 ? 0 : -v];
        });
        expect(nb[b * 9 + n].map((p) => p.map((v) => v + 0))).toEqual(expected);
      }
    }
    // Corner patch 0 of image 0: neighbours (0,1)=2, (1,0)=4, (1,1)=5 at slots 4, 6, 7.
    expect(nb[0].map((p) => p[0])).toEqual([0, 0, 0, 0, 2, 0, 4, 5]);
    // Centre patch: all 8 neighbours inside.
    expect(nb[4].map((p) => p[0])).toEqual([1, 2, 3, 4, 6, 7, 8, 9]);
  });
});

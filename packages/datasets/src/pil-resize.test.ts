import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { type GreyImage8, pilResizeBilinear } from './pil-resize.js';

// Made by scripts/pil-golden.py with Pillow 9.4.0: crops of digit-like and noise images resized in a chain.
interface Golden {
  pillow: string;
  side: number;
  inputs: string[];
  cases: {
    input: number;
    crop: [number, number, number, number];
    chain: [number, number][];
    outputs: string[];
    fallback?: boolean;
  }[];
}
const golden = JSON.parse(
  readFileSync(new URL('./pil-resize.golden.json', import.meta.url), 'utf8'),
) as Golden;
const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));

function crop(image: GreyImage8, [left, top, w, h]: number[]): GreyImage8 {
  const data = new Uint8Array(w * h);
  for (let y = 0; y < h; y++)
    data.set(image.data.subarray((top + y) * image.width + left, (top + y) * image.width + left + w), y * w);
  return { width: w, height: h, data };
}

describe('pilResizeBilinear', () => {
  it('covers every crop side 22..28, the fallback, the 16-px cell and single-axis resizes', () => {
    const sides = new Set(golden.cases.filter((c) => c.chain[0][0] === 28).map((c) => c.crop[2]));
    expect([...sides].sort((a, b) => a - b)).toEqual([22, 23, 24, 25, 26, 27, 28]);
    expect(golden.cases.some((c) => c.fallback)).toBe(true);
    expect(golden.cases.some((c) => c.chain[1]?.[0] === 16)).toBe(true);
    expect(golden.cases.length).toBe(41);
  });

  it.each(golden.cases.map((c, i) => [i, c] as const))('matches PIL bit for bit, case %i', (_i, c) => {
    let image = crop(
      { width: golden.side, height: golden.side, data: bytes(golden.inputs[c.input]) },
      c.crop,
    );
    c.chain.forEach(([w, h], step) => {
      image = pilResizeBilinear(image, w, h);
      expect([image.width, image.height]).toEqual([w, h]);
      // Compare as arrays so a mismatch shows the differing bytes.
      expect(Array.from(image.data)).toEqual(Array.from(bytes(c.outputs[step])));
    });
  });

  it('gives the hand-computed 2×2 → 3×3 enlargement (checked with PIL too)', () => {
    // Output centres fall at 1/3, 1 and 5/3 source px: the outer ones reach one source pixel only, the
    // middle one averages two, and 127.5 rounds up to 128.
    const out = pilResizeBilinear({ width: 2, height: 2, data: Uint8Array.of(0, 255, 255, 0) }, 3, 3);
    expect(Array.from(out.data)).toEqual([0, 128, 255, 128, 128, 128, 255, 128, 0]);
  });

  it('copies at the same size and rejects bad sizes', () => {
    const src = { width: 2, height: 1, data: Uint8Array.of(1, 2) };
    const same = pilResizeBilinear(src, 2, 1);
    expect(Array.from(same.data)).toEqual([1, 2]);
    expect(same.data).not.toBe(src.data);
    expect(() => pilResizeBilinear(src, 0, 1)).toThrow(/width must be a positive integer, got 0/);
    expect(() => pilResizeBilinear({ width: 3, height: 3, data: new Uint8Array(4) }, 2, 2)).toThrow(
      /3×3 image needs 9 bytes, got 4/,
    );
  });
});

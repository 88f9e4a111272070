import { Rng, tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import {
  ANOMALY_TYPES,
  type DigitAnatomySample,
  digitAnatomyDataset,
  digitAnatomyTestSet,
  digitCell,
  makeAbnormal,
  makeNormal,
} from './digit-anatomy.js';
import { digitInstances, mnistDigits } from './mnist-digits.js';
import { randomResizedCrop, type SquareCrop } from './random-resized-crop.js';

const CELL = 32;
const SIDE = 96;
const WHOLE: SquareCrop = { top: 0, left: 0, size: 28, fallback: false };
// Scale [1, 1] always crops the whole digit, so each cell is a plain resize of one MNIST instance.
const WHOLE_DIGITS = { cell: CELL, scale: [1, 1] as [number, number] };

/** Cell k of an image as bytes (the generator writes byte/255). */
function cellBytes(img: Float32Array, k: number, cell = CELL): Uint8Array {
  const side = 3 * cell;
  const out = new Uint8Array(cell * cell);
  const cx = (k % 3) * cell;
  const cy = Math.floor(k / 3) * cell;
  for (let y = 0; y < cell; y++)
    for (let x = 0; x < cell; x++) out[y * cell + x] = Math.round(img[(cy + y) * side + cx + x] * 255);
  return out;
}

const flip = (d: Uint8Array, axis: 'horizontal' | 'vertical') =>
  Uint8Array.from({ length: 784 }, (_, i) => {
    const y = Math.floor(i / 28);
    const x = i % 28;
    return axis === 'horizontal' ? d[y * 28 + 27 - x] : d[(27 - y) * 28 + x];
  });

const same = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((v, i) => v === b[i]);

// Whole-digit cells of every instance, per digit/split/flip, computed on first use.
const wholeCells = new Map<string, Uint8Array[]>();
function isInstance(
  cell: Uint8Array,
  digit: number,
  split: 'train' | 'test',
  axis?: 'horizontal' | 'vertical',
) {
  const key = `${digit}:${split}:${axis ?? ''}`;
  let cells = wholeCells.get(key);
  if (!cells) {
    cells = digitInstances(digit, split).map((d) => digitCell(axis ? flip(d, axis) : d, WHOLE, CELL));
    wholeCells.set(key, cells);
  }
  return cells.some((c) => same(c, cell));
}

/** Ink extent (rows, columns with a non-zero byte) of a square `[n, n]` image, inside rows/cols [lo, hi). */
function inkBox(img: Uint8Array, n: number, lo = 0, hi = n) {
  let [top, bottom, left, right] = [n, -1, n, -1];
  for (let y = lo; y < hi; y++) {
    for (let x = lo; x < hi; x++) {
      if (img[y * n + x] === 0) continue;
      top = Math.min(top, y);
      bottom = Math.max(bottom, y);
      left = Math.min(left, x);
      right = Math.max(right, x);
    }
  }
  return { top, bottom, left, right };
}

describe('DigitAnatomy', () => {
  it('ships the 10,000 MNIST digits of the mnist package as bytes', () => {
    const all = mnistDigits();
    expect(all.reduce((n, l) => n + l.length, 0)).toBe(10_000);
    expect(all.map((l) => l.length)).toEqual([1001, 1127, 991, 1032, 980, 863, 1014, 1070, 944, 978]);
    expect(all[1][0]).toBeInstanceOf(Uint8Array);
    expect(Math.max(...all[1][0])).toBe(255);
  });

  it('each cell is the official recipe: instance, crop from the same Rng, PIL resizes to 28 then 32', () => {
    for (const [seed, cell] of [
      [3, 32],
      [4, 16],
    ]) {
      const s = makeNormal(Rng.fromSeed(seed), { cell });
      const rng = Rng.fromSeed(seed);
      for (let k = 0; k < 9; k++) {
        const pool = digitInstances(k + 1, 'train');
        const digit = pool[rng.int(pool.length)];
        const want = digitCell(digit, randomResizedCrop(rng, 28, [0.6, 1.3]), cell);
        expect(same(cellBytes(s.image, k, cell), want)).toBe(true);
      }
      // Pixel values are bytes / 255.
      expect(s.image.every((v) => Math.abs(v * 255 - Math.round(v * 255)) < 1e-4)).toBe(true);
    }
  });

  it('digits fill their cells: the crop is enlarged by 28/w (then 32/28), never shrunk', () => {
    const rng = Rng.fromSeed(5);
    for (let i = 0; i < 40; i++) {
      const digit = digitInstances(1 + (i % 9), 'test')[i];
      const crop = randomResizedCrop(rng, 28, [0.6, 1.3]);
      const out = digitCell(digit, crop, CELL);
      const src = inkBox(digit, 28);
      // The source ink inside the crop window, mapped to cell pixels: the output ink must reach it.
      const f = CELL / crop.size;
      const top = Math.max(src.top, crop.top) - crop.top;
      const bottom = Math.min(src.bottom, crop.top + crop.size - 1) - crop.top;
      const left = Math.max(src.left, crop.left) - crop.left;
      const right = Math.min(src.right, crop.left + crop.size - 1) - crop.left;
      const got = inkBox(out, CELL);
      expect(got.top).toBeLessThanOrEqual(Math.ceil(top * f));
      expect(got.bottom).toBeGreaterThanOrEqual(Math.floor((bottom + 1) * f) - 1);
      expect(got.left).toBeLessThanOrEqual(Math.ceil(left * f));
      expect(got.right).toBeGreaterThanOrEqual(Math.floor((right + 1) * f) - 1);
    }
    // In whole images: MNIST digits are ~20 px at their longest; enlarged by ≥ 32/28 and clipped by at
    // most 6 px they span ≥ 20 px of every cell (a scaled centred digit at 0.6 spans ~12 px).
    let shortest = CELL;
    for (let seed = 0; seed < 12; seed++) {
      const s = makeNormal(Rng.fromSeed(seed));
      for (let k = 0; k < 9; k++) {
        const b = inkBox(cellBytes(s.image, k), CELL);
        shortest = Math.min(shortest, Math.max(b.bottom - b.top + 1, b.right - b.left + 1));
      }
    }
    expect(shortest).toBeGreaterThanOrEqual(20);
  });

  it('normal: digits 1–9 in reading order, train instances', () => {
    const s = makeNormal(Rng.fromSeed(3), WHOLE_DIGITS);
    expect(s.side).toBe(SIDE);
    for (let k = 0; k < 9; k++) expect(isInstance(cellBytes(s.image, k), k + 1, 'train')).toBe(true);
    expect(s.mask.every((v) => v === 0)).toBe(true);
  });

  it.each(ANOMALY_TYPES)('%s: the right digits in the right cells, mask on the affected cells', (type) => {
    for (let seed = 0; seed < 4; seed++) {
      const s: DigitAnatomySample = makeAbnormal(Rng.fromSeed(seed), type, {
        ...WHOLE_DIGITS,
        split: 'test',
      });
      expect(s.label).toBe(1);
      expect(s.type).toBe(type);
      const want: (number | 'blank')[] = [1, 2, 3, 4, 5, 6, 7, 8, 9];
      const [a, b] = s.cells;
      if (type === 'missing') want[a] = 'blank';
      if (type === 'zero') want[a] = 0;
      if (type === 'swap') [want[a], want[b]] = [want[b], want[a]];
      expect(s.cells.length).toBe(type === 'swap' ? 2 : 1);
      if (type === 'flip') expect(['horizontal', 'vertical']).toContain(s.flip);
      for (let k = 0; k < 9; k++) {
        const cell = cellBytes(s.image, k);
        const w = want[k];
        if (w === 'blank') expect(cell.every((v) => v === 0)).toBe(true);
        else expect(isInstance(cell, w, 'test', s.cells.includes(k) ? s.flip : undefined)).toBe(true);
      }
      // Mask: exactly the affected cells' squares.
      for (let k = 0; k < 9; k++) {
        const v = s.mask[(Math.floor(k / 3) * CELL + 5) * SIDE + (k % 3) * CELL + 5];
        expect(v).toBe(s.cells.includes(k) ? 1 : 0);
      }
      expect(s.mask.reduce((n, v) => n + v, 0)).toBe(s.cells.length * CELL * CELL);
    }
  });

  it('rejects a reversed scale range', () => {
    expect(() => makeNormal(Rng.fromSeed(0), { scale: [1.3, 0.6] })).toThrow(/first bound must not exceed/);
  });

  it('same seed → same sample; the test set is fixed and cycles the types', () => {
    expect(Array.from(makeAbnormal(Rng.fromSeed(7), 'swap').image)).toEqual(
      Array.from(makeAbnormal(Rng.fromSeed(7), 'swap').image),
    );
    expect(Array.from(makeNormal(Rng.fromSeed(7)).image)).not.toEqual(
      Array.from(makeNormal(Rng.fromSeed(8)).image),
    );
    const a = digitAnatomyTestSet({ seed: 1, normal: 2, abnormal: 8, cell: 16 });
    const b = digitAnatomyTestSet({ seed: 1, normal: 2, abnormal: 8, cell: 16 });
    expect(a.map((s) => Array.from(s.image))).toEqual(b.map((s) => Array.from(s.image)));
    expect(a.map((s) => s.type)).toEqual(['normal', 'normal', ...ANOMALY_TYPES, ...ANOMALY_TYPES]);
    expect(a[0].side).toBe(48);
  });

  it('as a dataset: 1,600 per epoch by default, fresh normals each epoch, test labelled; no tensor leak', async () => {
    expect(digitAnatomyDataset().length).toBe(1600);
    const before = tf.memory().numTensors;
    const train = digitAnatomyDataset({ split: 'train', length: 4, seed: 2, cell: 16 });
    expect(train.imageSize).toBe(48);
    const seen: number[][] = [];
    for await (const b of train.batches({ batchSize: 4, epochs: 2, seed: 2 })) {
      expect(b.images.shape).toEqual([4, 48, 48, 1]);
      expect(b.labels).toEqual([0, 0, 0, 0]);
      seen.push(Array.from(b.images.dataSync()));
      b.images.dispose();
    }
    expect(seen[0]).not.toEqual(seen[1]);
    // The scale option reaches the cells: [1, 1] gives whole-digit cells.
    const whole = digitAnatomyDataset({ split: 'train', length: 1, seed: 2, scale: [1, 1] });
    for await (const b of whole.batches({ batchSize: 1, epochs: 1, seed: 2 })) {
      const img = new Float32Array(b.images.dataSync());
      for (let k = 0; k < 9; k++) expect(isInstance(cellBytes(img, k), k + 1, 'train')).toBe(true);
      b.images.dispose();
    }
    const test = digitAnatomyDataset({ split: 'test', normal: 3, abnormal: 4, cell: 16 });
    expect(test.items.map((i) => i.label)).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(test.items[3].type).toBe('missing');
    const labels: number[] = [];
    for await (const b of test.batches({ batchSize: 5, shuffle: false })) {
      labels.push(...b.labels);
      b.images.dispose();
    }
    expect(labels).toEqual([0, 0, 0, 1, 1, 1, 1]);
    expect(tf.memory().numTensors).toBe(before);
  });
});

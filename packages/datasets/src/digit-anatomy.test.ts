import { Rng, tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import {
  ANOMALY_TYPES,
  type DigitAnatomySample,
  digitAnatomyDataset,
  digitAnatomyTestSet,
  makeAbnormal,
  makeNormal,
} from './digit-anatomy.js';
import { digitInstances, mnistDigits } from './mnist-digits.js';

const CELL = 32;
const SIDE = 96;
// Scale 1 puts each 28-px digit unscaled at offset 2 in its 32-px cell, so the cell can be matched exactly.
const FIXED = { cell: CELL, scale: [1, 1] as [number, number] };

function cellDigit(img: Float32Array, k: number): Float32Array {
  const out = new Float32Array(28 * 28);
  const cx = (k % 3) * CELL + 2;
  const cy = Math.floor(k / 3) * CELL + 2;
  for (let y = 0; y < 28; y++) for (let x = 0; x < 28; x++) out[y * 28 + x] = img[(cy + y) * SIDE + cx + x];
  return out;
}

const flip = (d: Float32Array, axis: 'horizontal' | 'vertical') =>
  Float32Array.from({ length: 784 }, (_, i) => {
    const y = Math.floor(i / 28);
    const x = i % 28;
    return axis === 'horizontal' ? d[y * 28 + 27 - x] : d[(27 - y) * 28 + x];
  });

/** Which digit class (and split) the cell content is, by exact match against MNIST instances. */
function identify(
  cell: Float32Array,
  axis?: 'horizontal' | 'vertical',
): { digit: number; split: string } | 'blank' | undefined {
  if (cell.every((v) => v === 0)) return 'blank';
  // A flip is its own inverse: unflip the cell once instead of flipping every instance.
  const target = axis ? flip(cell, axis) : cell;
  for (const split of ['train', 'test'] as const) {
    for (let d = 0; d < 10; d++) {
      for (const inst of digitInstances(d, split)) {
        if (inst.every((v, i) => Math.abs(v - target[i]) < 1e-6)) return { digit: d, split };
      }
    }
  }
  return undefined;
}

const digitsOf = (s: DigitAnatomySample, axis?: 'horizontal' | 'vertical') =>
  Array.from({ length: 9 }, (_, k) => {
    const id = identify(cellDigit(s.image, k), s.cells.includes(k) ? axis : undefined);
    return id === 'blank' ? 'blank' : id ? `${id.digit}:${id.split}` : '?';
  });

describe('DigitAnatomy', () => {
  it('ships the 10,000 MNIST digits of the mnist package', () => {
    expect(mnistDigits().reduce((n, l) => n + l.length, 0)).toBe(10_000);
  });

  it('normal: digits 1–9 in reading order, train instances', () => {
    const s = makeNormal(Rng.fromSeed(3), FIXED);
    expect(s.side).toBe(SIDE);
    expect(digitsOf(s)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `${d}:train`));
    expect(s.mask.every((v) => v === 0)).toBe(true);
  });

  it.each(ANOMALY_TYPES)('%s: the right digits in the right cells, mask on the affected cells', (type) => {
    for (let seed = 0; seed < 4; seed++) {
      const s = makeAbnormal(Rng.fromSeed(seed), type, { ...FIXED, split: 'test' });
      expect(s.label).toBe(1);
      expect(s.type).toBe(type);
      const want = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((d) => `${d}:test`);
      const [a, b] = s.cells;
      if (type === 'missing') want[a] = 'blank';
      if (type === 'zero') want[a] = '0:test';
      if (type === 'swap') [want[a], want[b]] = [want[b], want[a]];
      expect(s.cells.length).toBe(type === 'swap' ? 2 : 1);
      expect(digitsOf(s, s.flip)).toEqual(want);
      if (type === 'flip') expect(['horizontal', 'vertical']).toContain(s.flip);
      // Mask: exactly the affected cells' squares.
      for (let k = 0; k < 9; k++) {
        const v = s.mask[(Math.floor(k / 3) * CELL + 5) * SIDE + (k % 3) * CELL + 5];
        expect(v).toBe(s.cells.includes(k) ? 1 : 0);
      }
      expect(s.mask.reduce((n, v) => n + v, 0)).toBe(s.cells.length * CELL * CELL);
    }
  });

  it('digit sizes vary within 0.6–1.3 of the 28-px digit, centred in the cell', () => {
    const widths: number[] = [];
    for (let seed = 0; seed < 20; seed++) {
      const s = makeNormal(Rng.fromSeed(seed), { cell: CELL });
      // The digit "8" cell: extent of ink rows.
      const rows: number[] = [];
      for (let y = 0; y < CELL; y++) {
        let ink = false;
        for (let x = 0; x < CELL; x++) ink ||= s.image[(2 * CELL + y) * SIDE + CELL + x] > 0.1;
        if (ink) rows.push(y);
      }
      widths.push(rows[rows.length - 1] - rows[0] + 1);
    }
    expect(Math.max(...widths) - Math.min(...widths)).toBeGreaterThanOrEqual(6);
    expect(Math.max(...widths)).toBeLessThanOrEqual(CELL);
  });

  it('same seed → same sample; the test set is fixed and cycles the types', () => {
    expect(Array.from(makeAbnormal(Rng.fromSeed(7), 'swap').image)).toEqual(
      Array.from(makeAbnormal(Rng.fromSeed(7), 'swap').image),
    );
    const a = digitAnatomyTestSet({ seed: 1, normal: 2, abnormal: 8, cell: 16 });
    const b = digitAnatomyTestSet({ seed: 1, normal: 2, abnormal: 8, cell: 16 });
    expect(a.map((s) => Array.from(s.image))).toEqual(b.map((s) => Array.from(s.image)));
    expect(a.map((s) => s.type)).toEqual(['normal', 'normal', ...ANOMALY_TYPES, ...ANOMALY_TYPES]);
    expect(a[0].side).toBe(48);
  });

  it('as a dataset: train draws fresh normals per epoch, test is labelled; no tensor leak', async () => {
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

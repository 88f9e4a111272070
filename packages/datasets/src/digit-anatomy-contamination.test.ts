import { Rng } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import {
  ANOMALY_TYPES,
  type AnomalyType,
  digitAnatomyDataset,
  makeAbnormal,
  makeNormal,
} from './digit-anatomy.js';
import { openDataset } from './open-dataset.js';
import { mixSeed } from './seed.js';

const CELL = 16;

/** Every image of `epochs` epochs of a training set, in stream order, with its label and item path. */
async function stream(
  options: { contamination?: number; length: number; seed: number },
  batch: { batchSize: number; epochs: number; seed: number; shuffle?: boolean },
) {
  const train = digitAnatomyDataset({ split: 'train', cell: CELL, ...options });
  const out: { image: number[]; label: number; path: string }[] = [];
  for await (const b of train.batches(batch)) {
    const data = b.images.dataSync();
    const n = CELL * CELL * 9;
    b.labels.forEach((label, k) => {
      out.push({ image: Array.from(data.subarray(k * n, (k + 1) * n)), label, path: b.paths[k] });
    });
    b.images.dispose();
  }
  return out;
}

/** The abnormal items of a training set of `length` items: index → type. */
function abnormalItems(length: number, seed: number, contamination: number): Map<number, string> {
  const items = digitAnatomyDataset({ split: 'train', length, seed, contamination }).items;
  return new Map(items.flatMap((item, i) => (item.label === 1 ? [[i, item.type ?? '']] : [])));
}

describe('DigitAnatomy training contamination', () => {
  it('0 draws nothing: the stream is the normal generator on each slot’s generator, bit for bit', async () => {
    const batch = { batchSize: 3, epochs: 2, seed: 5, shuffle: false };
    const got = await stream({ contamination: 0, length: 6, seed: 5 }, batch);
    expect(got).toHaveLength(12);
    got.forEach((s, i) => {
      // The loader's slot generator (epoch e, slot i mod 6 without shuffle), as before contamination existed.
      const rng = Rng.fromSeed(mixSeed(5, Math.floor(i / 6), i % 6));
      expect(s.image).toEqual(Array.from(makeNormal(rng, { cell: CELL, split: 'train' }).image));
      expect(s.label).toBe(0);
    });
    expect(await stream({ length: 6, seed: 5 }, batch)).toEqual(got);
  });

  it('the abnormal fraction and each type’s share are within binomial bounds; sets nest as f grows', () => {
    const n = 20_000;
    const previous = new Map<number, string>();
    for (const f of [0.1, 0.3, 0.5]) {
      const abnormal = abnormalItems(n, 3, f);
      // 4 standard deviations of Binomial(n, f), and of Binomial(n, f/4) per type.
      expect(Math.abs(abnormal.size - n * f)).toBeLessThan(4 * Math.sqrt(n * f * (1 - f)));
      for (const type of ANOMALY_TYPES) {
        const count = [...abnormal.values()].filter((t) => t === type).length;
        expect(Math.abs(count - (n * f) / 4)).toBeLessThan(4 * Math.sqrt(((n * f) / 4) * (1 - f / 4)));
      }
      // An item abnormal at a smaller fraction stays abnormal, of the same type.
      for (const [i, type] of previous) expect(abnormal.get(i)).toBe(type);
      previous.clear();
      for (const [i, type] of abnormal) previous.set(i, type);
    }
    expect(abnormalItems(n, 3, 0).size).toBe(0);
    // Another seed, other items.
    const a = [...abnormalItems(1000, 3, 0.3).keys()];
    const b = [...abnormalItems(1000, 4, 0.3).keys()];
    expect(a).not.toEqual(b);
    expect(() => digitAnatomyDataset({ split: 'train', contamination: 1 })).toThrow();
  });

  it('an abnormal item is its type made as the test set makes it (train digits); normal items are unchanged', async () => {
    const options = { length: 8, seed: 2 };
    const batch = { batchSize: 4, epochs: 2, seed: 7 };
    const items = digitAnatomyDataset({ split: 'train', cell: CELL, contamination: 0.5, ...options }).items;
    const kinds = items.map((item) => item.type);
    expect(kinds).toEqual(['normal', 'flip', 'normal', 'normal', 'zero', 'normal', 'zero', 'normal']);
    expect(items.map((item) => item.label)).toEqual([0, 1, 0, 0, 1, 0, 1, 0]);
    const opened = await openDataset('digitanatomy', {
      split: 'train',
      cell: CELL,
      contamination: 0.5,
      ...options,
    });
    expect(opened.items).toEqual(items);
    const dirty = await stream({ contamination: 0.5, ...options }, batch);
    const clean = await stream({ contamination: 0, ...options }, batch);
    expect(await stream({ contamination: 0.5, ...options }, batch)).toEqual(dirty);
    expect(dirty.map((s) => s.path)).toEqual(clean.map((s) => s.path));
    dirty.forEach((s, i) => {
      const index = Number(s.path.split('/')[1]);
      const type = kinds[index];
      expect(s.label).toBe(type === 'normal' ? 0 : 1);
      if (type === 'normal') {
        expect(s.image).toEqual(clean[i].image);
        return;
      }
      const rng = Rng.fromSeed(mixSeed(7, Math.floor(i / 8), i % 8));
      const want = makeAbnormal(rng, type as AnomalyType, { cell: CELL, split: 'train' });
      expect(s.image).toEqual(Array.from(want.image));
      expect(s.image).not.toEqual(clean[i].image);
    });
    // Fresh abnormal images each epoch, of the item's type.
    const first = dirty.findIndex((s) => s.label === 1);
    const again = dirty.findIndex((s, i) => i >= 8 && s.path === dirty[first].path);
    expect(dirty[again].image).not.toEqual(dirty[first].image);
  });
});

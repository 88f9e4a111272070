import { tf } from '@squid-ad/backend';
import { describe, expect, it } from 'vitest';
import { type Batch, type DatasetItem, ImageDataset } from './dataset.js';
import { BadImageError } from './grey-image.js';

const S = 8;
const items: DatasetItem[] = Array.from({ length: 10 }, (_, i) => ({
  path: `img${i}`,
  label: (i % 2) as 0 | 1,
}));
// Image i is a constant i/10 with a bright dot, so augmentation visibly moves something.
const loader = async (_item: DatasetItem, index: number) => {
  const a = new Float32Array(S * S).fill(index / 10);
  a[27] = 1;
  return a;
};

async function collect(ds: ImageDataset, options: Parameters<ImageDataset['batches']>[0], max = 1000) {
  const out: {
    paths: string[];
    labels: number[];
    values: number[];
    position: Batch['position'];
    next: Batch['next'];
  }[] = [];
  for await (const b of ds.batches(options)) {
    out.push({
      paths: b.paths,
      labels: b.labels,
      values: Array.from(b.images.dataSync()),
      position: b.position,
      next: b.next,
    });
    expect(b.images.shape).toEqual([b.paths.length, S, S, 1]);
    expect(b.images.dtype).toBe('float32');
    b.images.dispose();
    if (out.length >= max) break;
  }
  return out;
}

describe('ImageDataset.batches', () => {
  it('each epoch is a seeded permutation, different per epoch and per seed', async () => {
    const ds = new ImageDataset('t', S, items, loader);
    const batches = await collect(ds, { batchSize: 4, seed: 1, epochs: 2 });
    expect(batches.map((b) => b.paths.length)).toEqual([4, 4, 2, 4, 4, 2]);
    const e0 = batches.slice(0, 3).flatMap((b) => b.paths);
    const e1 = batches.slice(3).flatMap((b) => b.paths);
    expect([...e0].sort()).toEqual(items.map((i) => i.path).sort());
    expect([...e1].sort()).toEqual(items.map((i) => i.path).sort());
    expect(e0).not.toEqual(e1);
    const other = (await collect(ds, { batchSize: 4, seed: 2 })).flatMap((b) => b.paths);
    expect(other).not.toEqual(e0);
    const again = (await collect(ds, { batchSize: 4, seed: 1 })).flatMap((b) => b.paths);
    expect(again).toEqual(e0);
    // Labels and pixel values travel with their paths.
    const b0 = batches[0];
    b0.paths.forEach((p, k) => {
      const i = Number(p.slice(3));
      expect(b0.labels[k]).toBe(i % 2);
      expect(b0.values[k * S * S]).toBeCloseTo(i / 10, 6);
    });
  });

  it('resuming from `next` reproduces the stream exactly, augmentation included', async () => {
    const ds = new ImageDataset('t', S, items, loader);
    const opts = {
      batchSize: 3,
      seed: 9,
      epochs: 3,
      augment: { translate: 0.25, scale: [0.8, 1.2] as [number, number] },
      prefetch: 3,
    };
    const full = await collect(ds, opts);
    expect(full.length).toBe(12);
    const cut = 5;
    const resumed = await collect(ds, { ...opts, start: full[cut - 1].next });
    expect(resumed).toEqual(full.slice(cut));
    // Same order without augmentation, but other pixel values: the augmentation did act.
    const plain = await collect(ds, { ...opts, augment: false });
    expect(plain.map((b) => b.paths)).toEqual(full.map((b) => b.paths));
    expect(plain.map((b) => b.values)).not.toEqual(full.map((b) => b.values));
  });

  it('shuffle off + dropLast: ordered, full batches only; endless stream with epochs = Infinity', async () => {
    const ds = new ImageDataset('t', S, items, loader);
    const b = await collect(ds, { batchSize: 4, shuffle: false, dropLast: true });
    expect(b.map((x) => x.paths)).toEqual([
      ['img0', 'img1', 'img2', 'img3'],
      ['img4', 'img5', 'img6', 'img7'],
    ]);
    const endless = await collect(ds, { batchSize: 4, epochs: Number.POSITIVE_INFINITY }, 25);
    expect(endless.length).toBe(25);
    expect(endless[24].position).toEqual({ epoch: 8, step: 0 });
    expect(() => ds.stepsPerEpoch(20, true)).not.toThrow();
    await expect(collect(ds, { batchSize: 20, dropLast: true })).rejects.toThrow(
      /cannot fill one batch of 20/,
    );
  });

  it('onError skip leaves bad files out, logs each once and counts them; throw stops', async () => {
    const bad = async (item: DatasetItem, index: number) => {
      if (index === 3) throw new BadImageError(item.path, 'corrupt PNG (test)');
      return loader(item, index);
    };
    const logs: string[] = [];
    const ds = new ImageDataset('t', S, items, bad, { onError: 'skip', log: (m) => logs.push(m) });
    const b = await collect(ds, { batchSize: 5, shuffle: false, epochs: 2 });
    expect(b.map((x) => x.paths.length)).toEqual([4, 5, 4, 5]);
    expect(logs).toEqual(['t: skipping img3: corrupt PNG (test)']);
    expect([...ds.skipped]).toEqual([['img3', 'corrupt PNG (test)']]);
    const strict = new ImageDataset('t', S, items, bad);
    await expect(collect(strict, { batchSize: 5, shuffle: false })).rejects.toThrow(
      'img3: corrupt PNG (test)',
    );
  });

  it('samples() yields every item once in order; no tensors leak', async () => {
    const before = tf.memory().numTensors;
    const ds = new ImageDataset('t', S, items, loader, { cacheBytes: 1 << 20 });
    const seen: string[] = [];
    for await (const s of ds.samples()) {
      seen.push(s.path);
      expect(s.image.length).toBe(S * S);
    }
    expect(seen).toEqual(items.map((i) => i.path));
    await collect(ds, { batchSize: 3, epochs: 2 });
    // Stopping early leaves no tensor behind either.
    for await (const b of ds.batches({ batchSize: 3, epochs: 5 })) {
      b.images.dispose();
      break;
    }
    expect(tf.memory().numTensors).toBe(before);
    ds.dispose();
  });
});

describe('ImageDataset cache', () => {
  it('decodes each item once while the cache has room, every epoch without it', async () => {
    let calls = 0;
    const counting = async (item: DatasetItem, index: number) => {
      calls++;
      return loader(item, index);
    };
    const cached = new ImageDataset('t', S, items, counting, { cacheBytes: 10 * S * S * 4 });
    await collect(cached, { batchSize: 4, epochs: 3 });
    expect(calls).toBe(10);
    calls = 0;
    // Room for 4 images: the other 6 are decoded again in each of the 3 epochs.
    const small = new ImageDataset('t', S, items, counting, { cacheBytes: 4 * S * S * 4 });
    await collect(small, { batchSize: 5, epochs: 3, shuffle: false, prefetch: 0 });
    expect(calls).toBe(10 + 6 + 6);
  });

  it('a loader returning the wrong size is an error naming the item', async () => {
    const wrong = new ImageDataset('t', S, items, async () => new Float32Array(3));
    await expect(collect(wrong, { batchSize: 2 })).rejects.toThrow('t: img');
  });
});

import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset } from './check-dataset.js';
import { cheXpertDataset, readCheXpertCsv } from './chexpert-dataset.js';
import type { ImageDataset } from './dataset.js';
import { folderDataset } from './folder-dataset.js';
import { dicomBytes } from './test-fixtures.js';
import { zhangLabDataset } from './zhanglab-dataset.js';

let root: string;
const put = async (path: string, bytes: Uint8Array | string) => {
  await mkdir(dirname(join(root, path)), { recursive: true });
  await writeFile(join(root, path), bytes);
};
// A constant grey image (level/255) identifies each fixture after decoding and resizing.
const png8 = (level: number, w = 20, h = 12) =>
  encodePng({ width: w, height: h, depth: 8, channels: 1, data: new Uint8Array(w * h).fill(level) });
const png16 = (level: number) =>
  encodePng({ width: 40, height: 40, depth: 16, channels: 1, data: new Uint16Array(1600).fill(level * 257) });
const jpg = (level: number) =>
  new Uint8Array(
    jpeg.encode({ width: 16, height: 16, data: new Uint8Array(16 * 16 * 4).fill(level) }, 100).data,
  );

async function all(ds: ImageDataset) {
  const out: { path: string; label: number; mean: number }[] = [];
  for await (const s of ds.samples()) {
    expect(s.image.length).toBe(ds.imageSize ** 2);
    out.push({
      path: s.path.slice(root.length + 1),
      label: s.label,
      mean: s.image.reduce((a, v) => a + v, 0) / s.image.length,
    });
  }
  return out.sort((a, b) => (a.path < b.path ? -1 : 1));
}

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'squid-datasets-'));
  // generic folder
  await put('folder/normal/a.png', png8(10));
  await put('folder/normal/sub/b.png', png16(20));
  await put('folder/abnormal/c.jpg', jpg(200));
  await put('folder/abnormal/d.dcm', dicomBytes({ rows: 2, cols: 2, pixels: [5, 5, 5, 5] }));
  await put('folder/.DS_Store', 'x');
  // broken files
  await put('broken/normal/ok.png', png8(50));
  await put('broken/normal/empty.png', new Uint8Array(0));
  await put('broken/normal/notes.txt', 'not an image');
  await put('broken/abnormal/trunc.png', png8(60, 64, 64).subarray(0, 70));
  await put('broken/abnormal/huge.png', png8(70, 300, 300));
  // ZhangLab, published layout
  for (const [s, n, a] of [
    ['train', 4, 3],
    ['val', 1, 1],
    ['test', 2, 2],
  ] as const) {
    for (let i = 0; i < n; i++) await put(`zl/chest_xray/${s}/NORMAL/n${i}.jpeg`, jpg(10 + i));
    for (let i = 0; i < a; i++) await put(`zl/chest_xray/${s}/PNEUMONIA/p${i}.jpeg`, jpg(150 + i));
  }
  // ZhangLab, SQUID layout
  await put('zs/train/normal_256/a.png', png8(1));
  await put('zs/test/normal_256/b.png', png8(2));
  await put('zs/test/pneumonia_256/c.png', png8(3));
  // CheXpert CSV layout
  const head =
    'Path,Sex,Age,Frontal/Lateral,AP/PA,No Finding,Enlarged Cardiomediastinum,Cardiomegaly,Edema,Support Devices';
  const rows = [
    'CheXpert-v1.0-small/train/p1/s1/v1.jpg,F,50,Frontal,PA,1.0,,,,', // normal
    'CheXpert-v1.0-small/train/p2/s1/v1.jpg,M,60,Frontal,PA,,,1.0,,', // abnormal
    'CheXpert-v1.0-small/train/p3/s1/v1.jpg,M,60,Frontal,AP,1.0,,,,', // AP: left out
    'CheXpert-v1.0-small/train/p4/s1/v2.jpg,M,60,Lateral,,1.0,,,,', // lateral: left out
    'CheXpert-v1.0-small/train/p5/s1/v1.jpg,F,40,Frontal,PA,,,,-1.0,', // uncertain only
    'CheXpert-v1.0-small/train/p6/s1/v1.jpg,F,40,Frontal,PA,1.0,,,,1.0', // support device: still normal
    'CheXpert-v1.0-small/train/p7/s1/v1.jpg,F,40,Frontal,PA,,0.0,,,', // no label at all: left out
    'CheXpert-v1.0-small/train/p8/s1/v1.jpg,F,40,Frontal,PA,1.0,,-1.0,,', // No Finding + uncertain finding
  ];
  await put('cx/train.csv', [head, ...rows].join('\n'));
  await put(
    'cx/valid.csv',
    [head, 'CheXpert-v1.0-small/valid/p9/s1/v1.jpg,F,50,Frontal,PA,1.0,,,,'].join('\n'),
  );
  for (const p of [1, 2, 3, 5, 6, 7, 8]) await put(`cx/train/p${p}/s1/v1.jpg`, jpg(p * 20));
  await put('cx/train/p4/s1/v2.jpg', jpg(90));
  await put('cx/valid/p9/s1/v1.jpg', jpg(99));
  await put('cx-escape/train.csv', `${head}\n../secret/x.jpg,F,50,Frontal,PA,1.0,,,,`);
  await put('cx-badcols/train.csv', 'Path,Sex\nx.jpg,F');
  // CheXpert SQUID layout
  await put('cs/train/normal_256/a.png', png8(5));
  await put('cs/test/normal_256/b.png', png8(6));
  await put('cs/test/abnormal_256/c.png', png8(7));
});

afterAll(async () => {
  await rm(root, { recursive: true, force: true });
});

describe('folderDataset', () => {
  it('labels by folder, recursive, every codec, resized to S×S with the right values', async () => {
    const ds = await folderDataset(join(root, 'folder'), { imageSize: 8 });
    const got = await all(ds);
    expect(got.map((g) => [g.path, g.label])).toEqual([
      ['folder/abnormal/c.jpg', 1],
      ['folder/abnormal/d.dcm', 1],
      ['folder/normal/a.png', 0],
      ['folder/normal/sub/b.png', 0],
    ]);
    expect(got[0].mean).toBeCloseTo(200 / 255, 2);
    expect(got[1].mean).toBe(0); // a constant DICOM has no dynamic range
    expect(got[2].mean).toBeCloseTo(10 / 255, 6);
    expect(got[3].mean).toBeCloseTo(20 / 255, 6);
  });

  it('train split: normal images minus the hold-out; val: the hold-out', async () => {
    const opts = { holdout: { normal: 1, abnormal: 1 }, seed: 3 };
    const train = await folderDataset(join(root, 'folder'), { ...opts, split: 'train' });
    const val = await folderDataset(join(root, 'folder'), { ...opts, split: 'val' });
    expect(train.items.map((i) => i.label)).toEqual([0]);
    expect(val.items.map((i) => i.label).sort()).toEqual([0, 1]);
    expect(val.items.some((v) => v.path === train.items[0].path)).toBe(false);
  });

  it('configurable folder names; a wrong layout shows the expected one', async () => {
    await expect(
      folderDataset(join(root, 'folder'), { normalDir: 'healthy', abnormalDir: 'sick' }),
    ).rejects.toThrow(/has neither healthy\/ nor sick\/; expected layout:\n.*\n\s+healthy\/\*\*/);
    await expect(folderDataset(join(root, 'nope'))).rejects.toThrow(
      /nope is not a directory; expected layout/,
    );
  });

  it('bad files: throw names the file; skip logs each once and counts them', async () => {
    const strict = await folderDataset(join(root, 'broken'), { imageSize: 8, maxPixels: 10_000 });
    await expect(all(strict)).rejects.toThrow(/broken\/normal\/empty\.png: empty file \(0 bytes\)/);
    const logs: string[] = [];
    const lenient = await folderDataset(join(root, 'broken'), {
      imageSize: 8,
      maxPixels: 10_000,
      onError: 'skip',
      log: (m) => logs.push(m),
    });
    const got = await all(lenient);
    expect(got.map((g) => g.path)).toEqual(['broken/normal/ok.png']);
    await all(lenient);
    expect(logs.length).toBe(4);
    const reasons = Object.fromEntries([...lenient.skipped].map(([p, r]) => [p.slice(root.length + 1), r]));
    expect(reasons['broken/normal/empty.png']).toMatch(/empty file/);
    expect(reasons['broken/normal/notes.txt']).toMatch(/not an image/);
    expect(reasons['broken/abnormal/trunc.png']).toMatch(/(corrupt|truncated) PNG/);
    expect(reasons['broken/abnormal/huge.png']).toMatch(/too large: 300×300/);
  });
});

describe('zhangLabDataset', () => {
  it('published layout: train is normal only; val/test are mixed', async () => {
    const train = await zhangLabDataset(join(root, 'zl'), { imageSize: 8 });
    expect(train.items.map((i) => i.label)).toEqual([0, 0, 0, 0]);
    const test = await zhangLabDataset(join(root, 'zl'), { split: 'test', imageSize: 8 });
    expect(test.items.map((i) => i.label).sort()).toEqual([0, 0, 1, 1]);
    const val = await zhangLabDataset(join(root, 'zl'), { split: 'val' });
    expect(val.items.length).toBe(2);
    const got = await all(test);
    expect(got.find((g) => g.path.endsWith('PNEUMONIA/p1.jpeg'))!.mean).toBeCloseTo(151 / 255, 2);
  });

  it('hold-out carved by seed from training, disjoint from train; contamination mixes abnormal in', async () => {
    const opts = { seed: 4, holdout: { normal: 1, abnormal: 1 } };
    const val = await zhangLabDataset(join(root, 'zl'), { ...opts, split: 'val' });
    const train = await zhangLabDataset(join(root, 'zl'), { ...opts, split: 'train' });
    expect(val.items.map((i) => i.label).sort()).toEqual([0, 1]);
    expect(train.items.length).toBe(3);
    expect(train.items.some((t) => val.items.some((v) => v.path === t.path))).toBe(false);
    const again = await zhangLabDataset(join(root, 'zl'), { ...opts, split: 'val' });
    expect(again.items).toEqual(val.items);
    // 3 normal left; 40 % contamination → round(0.4·3/0.6) = 2 abnormal images.
    const dirty = await zhangLabDataset(join(root, 'zl'), { ...opts, contamination: 0.4 });
    expect(dirty.items.map((i) => i.label).sort()).toEqual([0, 0, 0, 1, 1]);
    expect(dirty.items.some((t) => val.items.some((v) => v.path === t.path))).toBe(false);
    await expect(zhangLabDataset(join(root, 'zl'), { contamination: 0.9 })).rejects.toThrow(
      /contamination 0.9 needs 36 abnormal/,
    );
  });

  it('SQUID split layout, and a clear error for an unknown layout', async () => {
    const test = await zhangLabDataset(join(root, 'zs'), { split: 'test', imageSize: 4 });
    expect((await all(test)).map((g) => [g.label, Math.round(g.mean * 255)])).toEqual([
      [0, 2],
      [1, 3],
    ]);
    await expect(zhangLabDataset(join(root, 'zs'), { split: 'val' })).rejects.toThrow(
      /split 'val' missing.*expected one of/s,
    );
    await expect(zhangLabDataset(join(root, 'folder'))).rejects.toThrow(
      /no known layout.*chest_xray\/\{train,val,test\}\/\{NORMAL,PNEUMONIA\}/s,
    );
  });
});

describe('cheXpertDataset', () => {
  it('CSV: frontal PA, No Finding = normal, any positive finding = abnormal, uncertain excluded', async () => {
    const items = async (o: object) =>
      (await cheXpertDataset(join(root, 'cx'), { split: 'train', ...o })).items.map((i) => [
        i.path.slice(root.length + 1),
        i.label,
      ]);
    expect(await items({})).toEqual([
      ['cx/train/p1/s1/v1.jpg', 0],
      ['cx/train/p6/s1/v1.jpg', 0],
    ]);
    const contaminated = await items({ contamination: 1 / 3 });
    expect(contaminated).toContainEqual(['cx/train/p2/s1/v1.jpg', 1]);
    // Uncertainty policies, on the labels of train.csv directly.
    const labels = async (uncertain: 'exclude' | 'positive' | 'negative') => {
      const r = await readCheXpertCsv(join(root, 'cx/train.csv'), join(root, 'cx'), { uncertain });
      const name = (i: { path: string }) => i.path.split('/').at(-3);
      return { normal: r.normal.map(name), abnormal: r.abnormal.map(name) };
    };
    expect(await labels('exclude')).toEqual({ normal: ['p1', 'p6'], abnormal: ['p2'] });
    expect(await labels('positive')).toEqual({ normal: ['p1', 'p6'], abnormal: ['p2', 'p5', 'p8'] });
    expect(await labels('negative')).toEqual({ normal: ['p1', 'p6', 'p8'], abnormal: ['p2'] });
    expect(await items({ view: 'AP' })).toEqual([['cx/train/p3/s1/v1.jpg', 0]]);
    const valid = await cheXpertDataset(join(root, 'cx'), { split: 'test', imageSize: 8 });
    expect((await all(valid)).map((g) => [g.path, Math.round(g.mean * 255)])).toEqual([
      ['cx/valid/p9/s1/v1.jpg', 99],
    ]);
  });

  it('refuses CSV paths escaping the root and CSVs without the needed columns', async () => {
    await expect(cheXpertDataset(join(root, 'cx-escape'))).rejects.toThrow(
      /train\.csv line 2: path \.\.\/secret\/x\.jpg escapes the dataset root/,
    );
    await expect(cheXpertDataset(join(root, 'cx-badcols'))).rejects.toThrow(
      /train\.csv: missing column\(s\) Frontal\/Lateral, AP\/PA, No Finding/,
    );
  });

  it('SQUID split layout', async () => {
    const test = await cheXpertDataset(join(root, 'cs'), { split: 'test' });
    expect(test.items.map((i) => i.label)).toEqual([0, 1]);
    await expect(cheXpertDataset(join(root, 'folder'))).rejects.toThrow(
      /CheXpert: no known layout.*normal_256,abnormal_256/s,
    );
  });
});

describe('checkDataset', () => {
  it('counts per split and class, size range, and every bad file', async () => {
    const r = await checkDataset(join(root, 'broken'), { maxPixels: 10_000 });
    expect(r.layout).toBe('folder');
    expect(r.counts).toEqual({ all: { normal: 3, abnormal: 2 } });
    expect(r.size).toEqual({ minWidth: 20, maxWidth: 20, minHeight: 12, maxHeight: 12 });
    expect(r.bad.map((b) => b.path.slice(root.length + 1)).sort()).toEqual([
      'broken/abnormal/huge.png',
      'broken/abnormal/trunc.png',
      'broken/normal/empty.png',
      'broken/normal/notes.txt',
    ]);
    const z = await checkDataset(join(root, 'zl'));
    expect(z.layout).toBe('zhanglab (published)');
    expect(z.counts).toEqual({
      train: { normal: 4, abnormal: 3 },
      val: { normal: 1, abnormal: 1 },
      test: { normal: 2, abnormal: 2 },
    });
    expect(z.bad).toEqual([]);
    const c = await checkDataset(join(root, 'cx'), { layout: 'chexpert' });
    expect(c.counts.train).toEqual({ normal: 2, abnormal: 1 });
    expect(c.bad).toEqual([]);
  });
});

describe('openDataset', () => {
  it('dispatches by kind with the preset image sizes', async () => {
    const { openDataset, PRESET_IMAGE_SIZE } = await import('./open-dataset.js');
    const train = await openDataset('digitanatomy', { split: 'train', seed: 1, length: 8 });
    expect(train.imageSize).toBe(PRESET_IMAGE_SIZE.digitanatomy);
    const val = await openDataset('digitanatomy', { split: 'val', seed: 1, normal: 2, abnormal: 2 });
    const test = await openDataset('digitanatomy', { split: 'test', seed: 1, normal: 2, abnormal: 2 });
    expect(val.items.map((i) => i.label)).toEqual([0, 0, 1, 1]);
    const first = async (ds: typeof val) => (await ds.sample(0))!.image;
    expect(Array.from(await first(val))).not.toEqual(Array.from(await first(test)));
    const zl = await openDataset('zhanglab', { root: join(root, 'zl'), split: 'test' });
    expect(zl.imageSize).toBe(128);
    expect(zl.items.length).toBe(4);
    const f = await openDataset('folder', { root: join(root, 'folder'), split: 'test', imageSize: 16 });
    expect(f.items.length).toBe(4);
    await expect(openDataset('chexpert', { split: 'train' })).rejects.toThrow(/option 'root'/);
  });
});

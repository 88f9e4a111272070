import { initBackend } from '@squid-ad/backend';
import { BadImageError, type DatasetItem, ImageDataset } from '@squid-ad/datasets';
import { beforeAll, describe, expect, it } from 'vitest';
import { clippingModel } from '../clipping-model.fixture.js';
import { squidInfer } from '../score.js';
import { squidModel } from '../squid-plugin.js';
import { runOptionsSchema } from './run-config.js';
import { type ImageSet, labelledImageSet, validate } from './validate.js';

/** The clipping model behind the plug-in interface, scored like SQUID (per-image normalisation). */
const clipping = { infer: squidInfer(clippingModel, 'per-image') };

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const S = 8;

/** `perType` checked to 12 digits (the trapezoid rule rounds 2/3 either way). */
function expectTypes(got: Record<string, number>, want: Record<string, number>) {
  expect(Object.keys(got)).toEqual(Object.keys(want));
  for (const k of Object.keys(want)) expect(got[k]).toBeCloseTo(want[k], 12);
}

/**
 * An 8×8 image for {@link clippingModel}: pixel (0, 0) = the logit `d`; each `[x, y, e]` is a
 * pixel of 0.5 + e, reconstructed as 0.5 (error e).
 */
function img(d: number, errors: Array<[number, number, number]> = []): Float32Array {
  const out = new Float32Array(S * S);
  out[0] = d;
  for (const [x, y, e] of errors) out[y * S + x] = 0.5 + e;
  return out;
}

describe('validate', () => {
  it('gives the AUC of every score, overall and per anomaly type', async () => {
    // Cells of 4 px: a 2×2 grid. A = 1 − sigmoid((d − μ)/σ), so a low d is anomalous.
    //             d     errors (sum; worst cell sum)
    // n1 normal   0.40  none
    // n2 normal   0.30  none
    // n3 normal   0.20  0.25 at (5, 5)                      (0.25; 0.25)
    // a1 swap     0.10  0.125 in each of the four cells     (0.5;  0.125)
    // a2 swap     0.35  0.2 at (6, 2)                       (0.2;  0.2)
    // a3 missing  0.25  0.15 at (2, 6) and (3, 7), one cell (0.3;  0.3)
    const normals = [img(0.4), img(0.3), img(0.2, [[5, 5, 0.25]])];
    const val: ImageSet = {
      images: [
        ...normals,
        img(0.1, [
          [1, 1, 0.125],
          [5, 1, 0.125],
          [1, 5, 0.125],
          [5, 5, 0.125],
        ]),
        img(0.35, [[6, 2, 0.2]]),
        img(0.25, [
          [2, 6, 0.15],
          [3, 7, 0.15],
        ]),
      ],
      labels: [0, 0, 0, 1, 1, 1],
      types: ['normal', 'normal', 'normal', 'swap', 'swap', 'missing'],
      size: S,
    };
    const normSet: ImageSet = { images: normals, labels: [0, 0, 0], size: S };
    const v = await validate(clipping, squidModel, normSet, val, runOptionsSchema.parse({ reconCell: 4 }));
    expect(v.norm.mu).toBeCloseTo(0.3, 6);
    // Pairs (anomaly, normal) ranked right, of 9 overall, 6 for swap, 3 for missing:
    // discriminator (by d): a1 3, a2 1 (beats n1 only), a3 2 → 6/9, swap 4/6, missing 2/3
    // recon-l1 (by error sum): a1 3, a2 2, a3 3 → 8/9, swap 5/6, missing 1
    // recon-l1-worst-cell: a1 2 (0.125 < n3's 0.25), a2 2, a3 3 → 7/9, swap 4/6, missing 1
    const s = v.scores!;
    expect(v.auc).toBeCloseTo(6 / 9, 12);
    expect(s.discriminator.auc).toBe(v.auc);
    expectTypes(s.discriminator.perType, { missing: 2 / 3, swap: 4 / 6 });
    expect(s['recon-l1'].auc).toBeCloseTo(8 / 9, 12);
    expectTypes(s['recon-l1'].perType, { missing: 1, swap: 5 / 6 });
    expect(s['recon-l1-worst-cell'].auc).toBeCloseTo(7 / 9, 12);
    expectTypes(s['recon-l1-worst-cell'].perType, { missing: 1, swap: 4 / 6 });
    expect(v.threshold).not.toBeNull();

    // One cell of 8 px: the worst cell is the whole image, so it ranks like recon-l1.
    const one = await validate(clipping, squidModel, normSet, val, runOptionsSchema.parse({ reconCell: 8 }));
    expect(one.scores!['recon-l1-worst-cell']).toEqual(one.scores!['recon-l1']);
    // No types: no per-type AUCs; a single class: no AUCs at all.
    const untyped = await validate(
      clipping,
      squidModel,
      normSet,
      { ...val, types: undefined },
      runOptionsSchema.parse({}),
    );
    expect(untyped.scores!['recon-l1'].perType).toEqual({});
    const normalOnly = await validate(clipping, squidModel, normSet, normSet, runOptionsSchema.parse({}));
    expect([normalOnly.auc, normalOnly.scores]).toEqual([null, null]);
  });

  it('lets the event loop run between chunks of 16 images (a queue worker renews its lock meanwhile)', async () => {
    const images = Array.from({ length: 40 }, (_, i) => img(0.1 + i / 100));
    const set: ImageSet = { images, labels: images.map((_, i) => (i % 2) as 0 | 1), size: S };
    let turns = 0;
    let running = true;
    const spin = () => {
      if (!running) return;
      turns++;
      setImmediate(spin);
    };
    setImmediate(spin);
    await validate(clipping, squidModel, set, set, runOptionsSchema.parse({}));
    running = false;
    // 3 chunks of the normalisation images, 3 of the validation images: a turn before each.
    expect(turns).toBeGreaterThanOrEqual(5);
  });
});

describe('labelledImageSet', () => {
  it('keeps each image’s anomaly type, also when a bad file is skipped', async () => {
    const items: DatasetItem[] = [
      { path: 'n0', label: 0, type: 'normal' },
      { path: 'bad', label: 1, type: 'swap' },
      { path: 'a2', label: 1, type: 'flip' },
      { path: 'a3', label: 1, type: 'zero' },
    ];
    const ds = new ImageDataset(
      'typed',
      2,
      items,
      async (item, index) => {
        if (item.path === 'bad') throw new BadImageError(item.path, 'broken');
        return new Float32Array(4).fill(index);
      },
      { onError: 'skip', log: () => {} },
    );
    const set = await labelledImageSet(ds);
    expect(set.images.map((im) => im[0])).toEqual([0, 2, 3]);
    expect(set.labels).toEqual([0, 1, 1]);
    expect(set.types).toEqual(['normal', 'flip', 'zero']);
    const untyped = await labelledImageSet(
      new ImageDataset('untyped', 2, [{ path: 'x', label: 0 }], async () => new Float32Array(4)),
    );
    expect(untyped.types).toBeUndefined();
  });
});

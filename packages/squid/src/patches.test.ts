import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { splitPatches, stitchPatches } from './patches.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', nativeKernels: false });
});

describe('patch split and stitch', () => {
  it('cuts row-major patches with batch-major rows (b·P² + r·P + c)', () => {
    // Two 4×4 images whose pixel value encodes (image, row, column).
    const values = Array.from({ length: 2 * 4 * 4 }, (_, i) => i);
    const x = tf.tensor4d(values, [2, 4, 4, 1]);
    const p = splitPatches(x, 2);
    expect(p.shape).toEqual([8, 2, 2, 1]);
    const rows = p.arraySync() as number[][][][];
    // Row 3 = image 0, patch (1, 1): pixels (2..3, 2..3).
    expect(rows[3].flat(2)).toEqual([10, 11, 14, 15]);
    // Row 5 = image 1, patch (0, 1): pixels (0..1, 2..3) of image 1.
    expect(rows[5].flat(2)).toEqual([18, 19, 22, 23]);
    const back = stitchPatches(p, 2);
    expect(Array.from(back.dataSync())).toEqual(values);
    tf.dispose([x, p, back]);
  });

  it('rejects sizes that do not divide', () => {
    const x = tf.zeros([1, 5, 5, 1]) as tf.Tensor4D;
    expect(() => splitPatches(x, 2)).toThrow(/5×5 image does not split into 2×2 patches/);
    expect(() => stitchPatches(x, 2)).toThrow(/1 rows are not a multiple of 4 patches/);
    x.dispose();
  });
});

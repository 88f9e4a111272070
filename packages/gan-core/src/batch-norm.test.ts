import { initBackend, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { BatchNorm2d } from './batch-norm.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('BatchNorm2d', () => {
  // One channel, values 1..4 over a [2,1,2,1] batch: mean 2.5, biased var 1.25, unbiased 5/3.
  const x = () => tf.tensor4d([1, 2, 3, 4], [2, 1, 2, 1]);

  it('normalises with batch statistics and tracks running ones like PyTorch', () => {
    const bn = new BatchNorm2d(1);
    const y = bn.apply(x(), { stats: 'batch' }).dataSync();
    const s = Math.sqrt(1.25 + 1e-5);
    expect(Array.from(y)).toEqual([1, 2, 3, 4].map((v) => expect.closeTo((v - 2.5) / s, 6)));
    expect(bn.runningMean.dataSync()[0]).toBeCloseTo(0.25, 6);
    expect(bn.runningVar.dataSync()[0]).toBeCloseTo(0.9 + 0.1 * (5 / 3), 6);
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(1);
    bn.dispose();
  });

  it('uses running statistics without updating them', () => {
    const bn = new BatchNorm2d(1);
    bn.runningMean.assign(tf.tensor1d([1]));
    bn.runningVar.assign(tf.tensor1d([4]));
    const y = bn.apply(x(), { stats: 'running' }).dataSync();
    expect(y[3]).toBeCloseTo(3 / Math.sqrt(4 + 1e-5), 6);
    expect(bn.runningMean.dataSync()[0]).toBe(1);
    bn.dispose();
  });

  it('per-sample statistics equal batch statistics of each sample alone', () => {
    const bn = new BatchNorm2d(1);
    const y = bn.apply(x(), { stats: 'per-sample' }).dataSync();
    const s = Math.sqrt(0.25 + 1e-5);
    expect(Array.from(y)).toEqual([-1, 1, -1, 1].map((v) => expect.closeTo((v * 0.5) / s, 6)));
    expect(bn.numBatchesTracked.dataSync()[0]).toBe(0);
    bn.dispose();
  });
});

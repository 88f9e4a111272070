import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { Conv2d } from './conv2d.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('Conv2d', () => {
  it('pads stride-2 convolutions symmetrically like PyTorch (not TF same)', () => {
    const conv = new Conv2d({
      inChannels: 1,
      outChannels: 1,
      kernelSize: 3,
      stride: 2,
      padding: 1,
      rng: Rng.fromSeed(0),
    });
    conv.weight.assign(tf.ones([3, 3, 1, 1]));
    conv.bias!.assign(tf.zeros([1]));
    const x = tf.range(0, 16).reshape([1, 4, 4, 1]) as tf.Tensor4D;
    // Window sums by hand: rows/cols −1..1 and 1..3 of the 4×4 ramp 0..15.
    expect(Array.from(conv.apply(x).dataSync())).toEqual([10, 24, 51, 90]);
    conv.dispose();
  });

  it('initialises within PyTorch bounds ±1/√fan_in, reproducibly by seed', () => {
    const a = new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, rng: Rng.fromSeed(5) });
    const b = new Conv2d({ inChannels: 4, outChannels: 8, kernelSize: 3, rng: Rng.fromSeed(5) });
    const w = a.weight.dataSync();
    const bound = 1 / Math.sqrt(36);
    expect(Math.max(...Array.from(w).map(Math.abs))).toBeLessThanOrEqual(bound);
    expect(Math.max(...Array.from(w).map(Math.abs))).toBeGreaterThan(0.9 * bound);
    expect(Array.from(b.weight.dataSync())).toEqual(Array.from(w));
    expect(a.state().map((e) => [e.name, e.layout])).toEqual([
      ['weight', 'conv'],
      ['bias', 'raw'],
    ]);
    a.dispose();
    b.dispose();
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { Decoder } from './decoder.js';
import { Discriminator, discriminatorSize } from './discriminator.js';
import { DoubleConv } from './double-conv.js';
import { Encoder, filterList } from './encoder.js';
import { UpBlock, upsampleBilinear } from './up-block.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', nativeKernels: false });
});

const rng = () => Rng.fromSeed(3);
const centreTap = (scale: number) => tf.tensor4d([0, 0, 0, 0, scale, 0, 0, 0, 0], [3, 3, 1, 1]);

describe('DoubleConv', () => {
  it('with running statistics, folds BN into the convs (fused) where that pays, with the same values', () => {
    const r = Rng.fromSeed(9);
    const block = new DoubleConv({ inChannels: 3, outChannels: 8, stride: 2, rng: r });
    const rand = (n: number, lo: number, hi: number) =>
      tf.tensor1d(Array.from({ length: n }, () => r.uniform(lo, hi)));
    for (const bn of [block.bn1, block.bn2a, block.bn2b]) {
      bn.runningMean.assign(rand(8, -0.5, 0.5));
      bn.runningVar.assign(rand(8, 0.2, 2));
      bn.weight.assign(rand(8, 0.5, 1.5));
      bn.bias.assign(rand(8, -0.2, 0.2));
    }
    const stats = { stats: 'running' as const };
    const unfolded = (x: tf.Tensor4D) => {
      const a = block.bn1.apply(block.conv1.apply(x), { ...stats, relu: true });
      const h = block.bn2a.apply(block.conv2a.apply(a), { ...stats, relu: true });
      return tf.relu(tf.add(a, block.bn2b.apply(block.conv2b.apply(h), stats)));
    };
    // Large activations (folded) and a 1-pixel output (left unfolded), each against the layers.
    for (const shape of [
      [2, 16, 16, 3],
      [1, 2, 2, 3],
    ] as [number, number, number, number][]) {
      const x = tf.randomUniform(shape, -1, 1, 'float32', 5) as tf.Tensor4D;
      const got = block.apply(x, stats).dataSync();
      const want = unfolded(x).dataSync();
      const err = Math.max(...Array.from(got, (v, j) => Math.abs(v - want[j])));
      expect(err).toBeLessThan(1e-5);
      expect(Math.max(...Array.from(want, Math.abs))).toBeGreaterThan(0.1);
    }
    block.dispose();
  });

  it('adds the residual after conv1+BN+ReLU and before the final ReLU', () => {
    const block = new DoubleConv({ inChannels: 1, outChannels: 1, rng: rng() });
    for (const [conv, scale] of [
      [block.conv1, 1],
      [block.conv2a, 1],
      [block.conv2b, -0.5],
    ] as const) {
      conv.weight.assign(centreTap(scale));
      conv.bias?.assign(tf.zeros([1]));
    }
    // Default BN state: running mean 0, var 1, so BN(x) = x·s with s = 1/√(1 + 1e-5).
    const s = 1 / Math.sqrt(1 + 1e-5);
    const x = tf.tensor4d([2, -1, 0.5, 3], [1, 2, 2, 1]);
    const y = Array.from(block.apply(x, { stats: 'running' }).dataSync());
    // a = relu(x·s); b = −0.5·s·relu(a·s)·s; out = relu(a + b) = x·s·(1 − 0.5·s²) for x > 0.
    expect(y).toEqual([2, -1, 0.5, 3].map((v) => expect.closeTo(Math.max(v, 0) * s * (1 - 0.5 * s * s), 6)));
    expect(block.state().map((e) => e.name.split('.').slice(0, 2).join('.'))).toEqual([
      ...Array(2).fill('conv1.0'),
      ...Array(5).fill('conv1.1'),
      ...Array(2).fill('conv2.0'),
      ...Array(5).fill('conv2.1'),
      ...Array(2).fill('conv2.3'),
      ...Array(5).fill('conv2.4'),
    ]);
    block.dispose();
  });

  it('training-mode gradients (fused BN+ReLU, residual ReLU) equal plain autodiff', () => {
    const block = new DoubleConv({ inChannels: 2, outChannels: 3, stride: 2, rng: rng() });
    const x = tf.randomUniform([2, 6, 6, 2], -1, 1, 'float32', 4) as tf.Tensor4D;
    const upstream = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 5);
    const params = block.state().filter((e) => e.kind === 'parameter');
    const vars = params.map((e) => e.variable);
    // The same function from plain TensorFlow.js ops, differentiated by tf.grads.
    const bn = (t: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(t, [0, 1, 2], true);
      return tf.add(tf.mul(tf.div(tf.sub(t, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    const conv = (t: tf.Tensor, w: tf.Tensor, b: tf.Tensor, stride: number) =>
      tf.add(tf.conv2d(t as tf.Tensor4D, w as tf.Tensor4D, stride, 1), b);
    const reference = (xs: tf.Tensor, ...p: tf.Tensor[]) => {
      const a = tf.relu(bn(conv(xs, p[0], p[1], 2), p[2], p[3]));
      const h = tf.relu(bn(conv(a, p[4], p[5], 1), p[6], p[7]));
      const b = bn(conv(h, p[8], p[9], 1), p[10], p[11]);
      return tf.sum(tf.mul(tf.relu(tf.add(a, b)), upstream));
    };
    const expected = tf.grads(reference)([x, ...vars]);
    const dx = tf.grad((xs: tf.Tensor) =>
      tf.sum(tf.mul(block.apply(xs as tf.Tensor4D, { stats: 'batch' }), upstream)),
    )(x);
    const { grads } = tf.variableGrads(
      () => tf.sum(tf.mul(block.apply(x, { stats: 'batch' }), upstream)) as tf.Scalar,
      vars,
    );
    const ours = [dx, ...vars.map((v) => grads[v.name])];
    expected.forEach((e, i) => {
      const err = tf.max(tf.abs(tf.sub(ours[i], e))).dataSync()[0];
      expect(err, params[i - 1]?.name ?? 'x').toBeLessThan(
        1e-5 * Math.max(1, tf.max(tf.abs(e)).dataSync()[0]),
      );
    });
    block.dispose();
  });

  it('halves the size with stride 2 (PyTorch symmetric padding)', () => {
    const block = new DoubleConv({ inChannels: 2, outChannels: 3, stride: 2, rng: rng() });
    const y = block.apply(tf.ones([1, 6, 6, 2]) as tf.Tensor4D, { stats: 'batch' });
    expect(y.shape).toEqual([1, 3, 3, 3]);
    block.dispose();
  });
});

describe('UpBlock', () => {
  it('upsamples with half-pixel centres like PyTorch align_corners=False', () => {
    const y = upsampleBilinear(tf.tensor4d([1, 2], [1, 1, 2, 1]), [1, 4]);
    expect(Array.from(y.dataSync())).toEqual([1, 1.25, 1.75, 2]);
  });

  it('concatenates [skip, upsampled] in that order', () => {
    const up = new UpBlock({ inChannels: 2, outChannels: 1, op: 'concat', rng: rng() });
    // conv1 reads only the skip channel (input channel 0): the output must not depend on x.
    up.conv.conv1.weight.assign(
      tf.tensor4d([0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [3, 3, 2, 1]),
    );
    const skip = tf.randomUniform([1, 4, 4, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
    const a = up.apply(tf.zeros([1, 2, 2, 1]) as tf.Tensor4D, skip, { stats: 'running' }).dataSync();
    const b = up.apply(tf.ones([1, 2, 2, 1]) as tf.Tensor4D, skip, { stats: 'running' }).dataSync();
    expect(Array.from(a)).toEqual(Array.from(b));
    up.dispose();
  });
});

describe('Encoder and Decoder', () => {
  it('follow the SQUID channel plan and official names', () => {
    expect(filterList(8)).toEqual([8, 16, 32, 64, 128, 128]);
    const enc = new Encoder({ inChannels: 1, featuresRoot: 4, level: 3, rng: rng() });
    const feats = enc.apply(tf.zeros([2, 16, 16, 1]) as tf.Tensor4D, { stats: 'batch' });
    expect(feats.map((f) => f.shape)).toEqual([
      [2, 16, 16, 4],
      [2, 8, 8, 8],
      [2, 4, 4, 16],
      [2, 2, 2, 32],
    ]);
    const dec = new Decoder({
      featuresRoot: 4,
      level: 3,
      ops: ['concat', 'concat', 'none'],
      outChannels: 1,
      rng: rng(),
    });
    expect(dec.ups.map((u) => u.conv.conv1.weight.shape[2])).toEqual([32 + 16, 16 + 8, 8]);
    const calls: string[] = [];
    const out = dec.apply(feats[3], feats.slice(0, 3), {
      stats: 'batch',
      beforeStep: (i, x) => {
        calls.push(`before ${i} ${x.shape[1]}`);
        return x;
      },
      afterStep: (i, x) => {
        calls.push(`after ${i} ${x.shape[1]}`);
        return x;
      },
    });
    expect(calls).toEqual(['before 0 2', 'after 0 4', 'before 1 4', 'after 1 8', 'before 2 8', 'after 2 16']);
    expect(out.logits.shape).toEqual([2, 16, 16, 1]);
    expect(enc.state()[0].name).toBe('in_conv.conv.conv1.0.weight');
    expect(dec.state().at(-1)?.name).toBe('out_conv.conv.bias');
    const teacher = new Decoder({
      featuresRoot: 4,
      level: 3,
      ops: ['concat', 'concat', 'none'],
      outChannels: 1,
      rng: rng(),
      names: { ups: 'teacher_ups', out: 'teacher_out' },
    });
    expect(teacher.state()[0].name).toBe('teacher_ups.0.conv.conv1.0.weight');
    for (const m of [enc, dec, teacher]) m.dispose();
  });
});

describe('Discriminator', () => {
  it('has the official size, names and parameter count', () => {
    expect([48, 64, 96, 128].map(discriminatorSize)).toEqual([2, 2, 3, 4]);
    const d = new Discriminator({ size: 3, rng: rng() });
    const params = d.state().filter((e) => e.kind === 'parameter');
    expect(params.reduce((n, e) => n + e.variable.size, 0)).toBe(681_025);
    expect(d.state().map((e) => e.name.split('.').slice(0, 2).join('.'))).toEqual(
      expect.arrayContaining([
        'conv_model.0',
        'conv_model.2',
        'conv_model.3',
        'conv_model.11',
        'conv_model.12',
        'regressor.weight',
      ]),
    );
    expect(() => d.apply(tf.zeros([1, 48, 48, 1]) as tf.Tensor4D, { stats: 'running' })).toThrow(
      /built for size 3/,
    );
    d.dispose();
  });

  it('per-sample statistics equal one call per image in batch mode, and update nothing', () => {
    const d = new Discriminator({ size: 2, rng: rng() });
    const x = tf.randomUniform([3, 48, 48, 1], 0, 1, 'float32', 5) as tf.Tensor4D;
    const perSample = d.apply(x, { stats: 'per-sample' }).dataSync();
    const tracked = d.norms[0].numBatchesTracked;
    expect(tracked.dataSync()[0]).toBe(0);
    for (let i = 0; i < 3; i++) {
      const one = d.apply(x.slice([i], [1]), { stats: 'batch' }).dataSync()[0];
      expect(perSample[i]).toBeCloseTo(one, 5);
    }
    expect(tracked.dataSync()[0]).toBe(3);
    d.dispose();
  });
});

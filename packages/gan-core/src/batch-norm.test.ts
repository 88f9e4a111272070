import { BATCH_NORM_TRAIN, initBackend, tf } from '@squid-ad/backend';
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

  it('update: k applies the running update k times (k passes over the same batch), 0 none', () => {
    const twice = new BatchNorm2d(1);
    twice.apply(x(), { stats: 'batch', update: 2 });
    const sequential = new BatchNorm2d(1);
    sequential.apply(x(), { stats: 'batch' });
    sequential.apply(x(), { stats: 'batch' });
    expect(twice.runningMean.dataSync()[0]).toBeCloseTo(0.25 + 0.1 * (2.5 - 0.25), 6); // 0.475
    for (const k of ['runningMean', 'runningVar', 'numBatchesTracked'] as const)
      expect(Array.from(twice[k].dataSync())).toEqual(Array.from(sequential[k].dataSync()));
    expect(twice.numBatchesTracked.dataSync()[0]).toBe(2);
    const none = new BatchNorm2d(1);
    none.apply(x(), { stats: 'batch', update: 0 });
    expect([none.runningMean.dataSync()[0], none.numBatchesTracked.dataSync()[0]]).toEqual([0, 0]);
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

describe('BatchNorm2d batch-statistics gradient', () => {
  it('equals autodiff through tf.moments (closed form through mean and variance)', () => {
    const bn = new BatchNorm2d(3);
    bn.weight.assign(tf.tensor1d([0.5, -1.5, 2]));
    bn.bias.assign(tf.tensor1d([0.1, 0.2, -0.3]));
    const x = tf.randomUniform([2, 3, 4, 3], -1, 2, 'float32', 11) as tf.Tensor4D;
    const upstream = tf.randomNormal([2, 3, 4, 3], 0, 1, 'float32', 12);
    const loss = (y: tf.Tensor) => tf.sum(tf.mul(y, upstream));
    const reference = (xs: tf.Tensor4D, g: tf.Tensor, b: tf.Tensor) => {
      const { mean, variance } = tf.moments(xs, [0, 1, 2], true);
      return tf.add(tf.mul(tf.div(tf.sub(xs, mean), tf.sqrt(tf.add(variance, 1e-5))), g), b);
    };
    // Gradient w.r.t. weight and bias through the variables themselves.
    const { grads } = tf.variableGrads(
      () => loss(bn.apply(x, { stats: 'batch', update: false })) as tf.Scalar,
      [bn.weight, bn.bias],
    );
    const [dxRef, dgRef, dbRef] = tf.grads((xs: tf.Tensor, g: tf.Tensor, b: tf.Tensor) =>
      loss(reference(xs as tf.Tensor4D, g, b)),
    )([x, bn.weight, bn.bias]);
    const dx = tf.grad((xs: tf.Tensor) =>
      loss(bn.apply(xs as tf.Tensor4D, { stats: 'batch', update: false })),
    )(x);
    const close = (a: tf.Tensor, b: tf.Tensor) => {
      const err = tf.max(tf.abs(tf.sub(a, b))).dataSync()[0];
      const scale = tf.max(tf.abs(b)).dataSync()[0];
      expect(err).toBeLessThan(1e-5 * Math.max(1, scale));
    };
    close(dx, dxRef);
    close(grads[bn.weight.name], dgRef);
    close(grads[bn.bias.name], dbRef);
    bn.dispose();
  });
});

describe('BatchNorm2d through the fused native kernel', () => {
  it.for(['wasm', 'cpu'])(
    '%s: equals the TF.js composite (values, gradients, running statistics)',
    async (backend, ctx) => {
      const report = await initBackend({ backend: backend as 'wasm' | 'cpu', threads: 1 });
      const native = tf.getKernel(BATCH_NORM_TRAIN, backend);
      if (!native) ctx.skip(`no native kernels: ${report.nativeKernels.reason}`);
      // Channels with a large mean and different scales, as conv outputs have.
      const x = tf.tidy(() =>
        tf.add(
          tf.mul(tf.randomNormal([4, 9, 7, 5], 0, 1, 'float32', 21), [0.5, 1, 2, 3, 0.1]),
          [3, -1, 0, 10, 0.2],
        ),
      ) as tf.Tensor4D;
      const upstream = tf.randomNormal([4, 9, 7, 5], 0, 1, 'float32', 22);
      const run = (relu: boolean) => {
        const bn = new BatchNorm2d(5);
        bn.weight.assign(tf.tensor1d([0.5, -1.5, 2, 1, 0.7]));
        bn.bias.assign(tf.tensor1d([0.1, 0.2, -0.3, 0, 0.05]));
        const f = (xs: tf.Tensor) =>
          tf.sum(tf.mul(bn.apply(xs as tf.Tensor4D, { stats: 'batch', relu }), upstream));
        const { value, grads } = tf.variableGrads(() => f(x) as tf.Scalar, [bn.weight, bn.bias]);
        const dx = tf.grad(f)(x);
        const y = bn.apply(x, { stats: 'batch', relu, update: false });
        const out = [y, dx, grads[bn.weight.name], grads[bn.bias.name], bn.runningMean, bn.runningVar].map(
          (t) => Array.from(t.dataSync()),
        );
        tf.dispose([value, dx, y, ...Object.values(grads)]);
        bn.dispose();
        return out;
      };
      try {
        for (const relu of [false, true]) {
          const fused = run(relu);
          tf.unregisterKernel(BATCH_NORM_TRAIN, backend);
          const composite = run(relu);
          tf.registerKernel(native!);
          fused.forEach((a, i) => {
            const scale = Math.max(1, ...composite[i].map(Math.abs));
            const err = Math.max(...a.map((v, j) => Math.abs(v - composite[i][j])));
            expect(err / scale).toBeLessThan(1e-4);
          });
          expect(fused[1].some((v) => v !== 0)).toBe(true);
        }
      } finally {
        if (tf.getKernel(BATCH_NORM_TRAIN, backend)) tf.unregisterKernel(BATCH_NORM_TRAIN, backend);
        if (native) tf.registerKernel(native);
        tf.dispose([x, upstream]);
        await initBackend({ backend: 'cpu' });
      }
    },
  );
});

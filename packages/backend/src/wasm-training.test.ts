import { beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { Rng } from './rng.js';
import { tf } from './tf.js';

type Op = (x: tf.Tensor4D) => tf.Tensor;

// The ops of a conv / BN / attention training step (and the kernels we add or replace). Each is
// differentiated on wasm and on cpu; the gradients must agree.
const OPS: Record<string, Op> = {
  'conv2d s2 pytorch pad': (x) =>
    tf.conv2d(x, tf.randomNormal([3, 3, 3, 4], 0, 0.3, 'float32', 2) as tf.Tensor4D, 2, [
      [0, 0],
      [1, 1],
      [1, 1],
      [0, 0],
    ]),
  'batch norm (moments)': (x) => {
    const { mean, variance } = tf.moments(x, [0, 1, 2], true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  },
  'layer norm': (x) => {
    const { mean, variance } = tf.moments(x, -1, true);
    return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5)));
  },
  'tf.batchNorm': (x) =>
    tf.batchNorm(x, tf.fill([3], 0.1), tf.fill([3], 2), tf.fill([3], 0.3), tf.fill([3], 1.5)),
  softmax: (x) => tf.softmax(x),
  leakyRelu: (x) => tf.leakyRelu(x, 0.2),
  sigmoid: (x) => tf.sigmoid(x),
  'resizeBilinear half-pixel': (x) => tf.image.resizeBilinear(x, [16, 16], false, true),
  'resizeBilinear align-corners': (x) => tf.image.resizeBilinear(x, [13, 11], true),
  resizeNearestNeighbor: (x) => tf.image.resizeNearestNeighbor(x, [16, 16]),
  pad: (x) =>
    tf.pad(x, [
      [0, 0],
      [1, 2],
      [1, 1],
      [0, 0],
    ]),
  concat: (x) => tf.concat([x, tf.mul(x, x)], 3),
  slice: (x) => tf.slice(x, [0, 1, 1, 0], [2, 5, 5, 3]),
  transpose: (x) => tf.transpose(x, [0, 3, 1, 2]),
  gather: (x) => tf.gather(x, tf.tensor1d([0, 2, 2, 7], 'int32'), 1),
  'matMul (attention)': (x) => {
    const t = tf.reshape(x, [2, 64, 3]);
    return tf.matMul(tf.softmax(tf.matMul(t, t, false, true)), t);
  },
  'maxPool same': (x) => tf.maxPool(x, 2, 2, 'same'),
  'avgPool valid': (x) => tf.avgPool(x, 2, 2, 'valid'),
  depthwiseConv2d: (x) =>
    tf.depthwiseConv2d(x, tf.randomNormal([3, 3, 3, 2], 0, 0.3, 'float32', 2) as tf.Tensor4D, 1, 'same'),
  unsortedSegmentSum: (x) =>
    tf.unsortedSegmentSum(
      tf.reshape(x, [16, 24]),
      tf.tensor1d([0, 1, 0, 1, 2, 2, 0, 1, 0, 1, 2, 2, 0, 1, 0, 1], 'int32'),
      3,
    ),
};

async function gradOn(backend: string, op: Op): Promise<Float32Array> {
  await tf.setBackend(backend);
  return tf.tidy(() => {
    const x = tf.randomNormal([2, 8, 8, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
    const w = tf.randomNormal(op(x).shape, 0, 1, 'float32', 5);
    return tf
      .grad((a: tf.Tensor) => tf.sum(tf.mul(op(a as tf.Tensor4D), w)))(x)
      .dataSync() as Float32Array;
  });
}

/** A 3-layer conv+BN+relu net with a linear head, as plain variables. */
function makeNet(rng: Rng) {
  const chans = [1, 8, 16, 16];
  const vars: tf.Variable[] = [];
  for (let i = 0; i < 3; i++) {
    vars.push(tf.variable(tf.randomNormal([3, 3, chans[i], chans[i + 1]], 0, 0.3, 'float32', rng.tfSeed())));
    vars.push(tf.variable(tf.ones([chans[i + 1]])), tf.variable(tf.zeros([chans[i + 1]])));
  }
  const head = tf.variable(tf.randomNormal([16, 2], 0, 0.3, 'float32', rng.tfSeed()));
  const loss = (x: tf.Tensor4D, labels: tf.Tensor) =>
    tf.tidy(() => {
      let h: tf.Tensor4D = x;
      for (let i = 0; i < 3; i++) {
        h = tf.conv2d(h, vars[3 * i] as tf.Tensor4D, i === 0 ? 1 : 2, [
          [0, 0],
          [1, 1],
          [1, 1],
          [0, 0],
        ]);
        const { mean, variance } = tf.moments(h, [0, 1, 2]);
        h = tf.relu(tf.batchNorm(h, mean, variance, vars[3 * i + 2], vars[3 * i + 1], 1e-5)) as tf.Tensor4D;
      }
      return tf.losses.softmaxCrossEntropy(labels, tf.matMul(tf.mean(h, [1, 2]), head)) as tf.Scalar;
    });
  return { vars: [...vars, head], loss };
}

/** Images whose class is whether the bright square is in the top or bottom half. */
function toyData(rng: Rng, n: number): { x: tf.Tensor4D; labels: tf.Tensor2D } {
  const xs = new Float32Array(n * 16 * 16);
  const ys: number[] = [];
  for (let i = 0; i < n; i++) {
    const label = i % 2;
    const r = label * 8 + rng.int(5);
    const c = rng.int(12);
    for (let y = r; y < r + 3; y++) for (let x = c; x < c + 3; x++) xs[i * 256 + y * 16 + x] = 1;
    ys.push(label);
  }
  return {
    x: tf.tensor4d(xs, [n, 16, 16, 1]),
    labels: tf.oneHot(tf.tensor1d(ys, 'int32'), 2).toFloat() as tf.Tensor2D,
  };
}

describe('training on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', threads: 1, nativeKernels: false });
  });

  it.each(Object.keys(OPS))('%s: gradient equals cpu', async (name) => {
    const wasm = await gradOn('wasm', OPS[name]);
    const cpu = await gradOn('cpu', OPS[name]);
    await tf.setBackend('wasm');
    let num = 0;
    let den = 0;
    for (let i = 0; i < cpu.length; i++) {
      num = Math.max(num, Math.abs(wasm[i] - cpu[i]));
      den = Math.max(den, Math.abs(cpu[i]));
    }
    expect(den).toBeGreaterThan(0);
    expect(num / den).toBeLessThan(1e-4);
  });

  it('trains a hand-written conv+BN net (loss goes down) with constant tensor count', () => {
    const rng = Rng.fromSeed(11);
    const { x, labels } = toyData(rng, 16);
    const net = makeNet(rng);
    const opt = tf.train.adam(0.01);
    const step = () => {
      const loss = opt.minimize(() => net.loss(x, labels), true, net.vars) as tf.Scalar;
      const value = loss.dataSync()[0];
      loss.dispose();
      return value;
    };
    const first = step();
    step(); // optimizer slots are created during the first steps
    const tensors = tf.memory().numTensors;
    const buffers = tf.backend().numDataIds();
    let last = first;
    for (let i = 0; i < 25; i++) last = step();
    expect(tf.memory().numTensors).toBe(tensors);
    expect(tf.backend().numDataIds()).toBe(buffers);
    expect(Number.isFinite(last)).toBe(true);
    expect(last).toBeLessThan(first * 0.7);
    tf.dispose([x, labels, ...net.vars]);
    opt.dispose();
  });

  it('trains a tf.layers conv model with model.fit (loss goes down)', async () => {
    const rng = Rng.fromSeed(5);
    const { x, labels } = toyData(rng, 32);
    const model = tf.sequential({
      layers: [
        tf.layers.conv2d({ inputShape: [16, 16, 1], filters: 8, kernelSize: 3, strides: 2, padding: 'same' }),
        tf.layers.batchNormalization(),
        tf.layers.leakyReLU({ alpha: 0.2 }),
        tf.layers.conv2d({ filters: 8, kernelSize: 3, padding: 'same', activation: 'relu' }),
        tf.layers.globalAveragePooling2d({}),
        tf.layers.dense({ units: 2, activation: 'softmax' }),
      ],
    });
    model.compile({ optimizer: tf.train.adam(0.02), loss: 'categoricalCrossentropy' });
    const history = await model.fit(x, labels, { epochs: 15, batchSize: 16, shuffle: false, verbose: 0 });
    const losses = history.history.loss as number[];
    expect(losses.every(Number.isFinite)).toBe(true);
    expect(losses[losses.length - 1]).toBeLessThan(losses[0] * 0.8);
    model.dispose();
    tf.dispose([x, labels]);
  });
});

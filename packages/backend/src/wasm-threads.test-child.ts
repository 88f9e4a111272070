// Child process for wasm-threads.test.ts: initialises wasm with SQUID_THREADS threads, runs a
// fixed set of computations on seeded inputs and prints their raw bytes as one JSON line. Mode
// `init` only initialises and returns, to show that the process then exits by itself.
import { initBackend, Rng, tf } from './index.js';
import { heapWorkerCount } from './wasm-heap-workers.js';

// oneDNN kernels (when installed) size their own OpenMP pool from the wasm thread count, so
// they are off here: this checks the wasm kernels themselves.
const report = await initBackend({ backend: 'wasm', nativeKernels: false });
if (process.argv[2] === 'init') {
  process.stdout.write(`${JSON.stringify({ report })}\n`);
} else {
  const rng = Rng.fromSeed(8);
  const normal = (shape: number[]) => {
    const n = shape.reduce((p, d) => p * d, 1);
    return tf.tensor(
      Float32Array.from({ length: n }, () => rng.normal()),
      shape,
    );
  };
  const outputs: Record<string, tf.Tensor> = {};

  // Conv forward and both gradients: [B, H, W, C] · [kh, kw, Cin, Cout].
  const x = normal([4, 24, 24, 16]);
  const f = normal([3, 3, 16, 32]);
  const w = normal([4, 24, 24, 32]);
  outputs.conv = tf.conv2d(x as tf.Tensor4D, f as tf.Tensor4D, 1, 'same');
  const [dx, df] = tf.grads((xi: tf.Tensor, fi: tf.Tensor) =>
    tf
      .conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, 1, 'same')
      .mul(w)
      .sum(),
  )([x, f]);
  outputs.convGradInput = dx;
  outputs.convGradFilter = df;

  // matMul, every transpose combination, plain / batched / broadcast.
  for (const [name, aShape, bShape] of [
    ['2d', [192, 160], [160, 224]],
    ['batched', [6, 64, 48], [6, 48, 80]],
    ['broadcast', [6, 64, 48], [48, 80]],
  ] as [string, number[], number[]][]) {
    for (const tA of [false, true]) {
      for (const tB of [false, true]) {
        const sa = tA ? [...aShape.slice(0, -2), aShape.at(-1)!, aShape.at(-2)!] : aShape;
        const sb = tB ? [...bShape.slice(0, -2), bShape.at(-1)!, bShape.at(-2)!] : bShape;
        outputs[`matMul-${name}-${tA}-${tB}`] = tf.matMul(normal(sa), normal(sb), tA, tB);
      }
    }
  }

  // A filter gradient large enough for its input transpose to be split over the threads.
  const filterGrad = (xi: tf.Tensor) =>
    tf.grad((fi: tf.Tensor) =>
      tf
        .conv2d(xi as tf.Tensor4D, fi as tf.Tensor4D, 1, 'same')
        .square()
        .sum(),
    )(f);
  outputs.convGradFilterLarge = filterGrad(normal([8, 64, 64, 16]));

  // The same after the heap has grown past where it was when the worker started: the worker
  // must see the new memory (its data sits beyond the old end).
  const ballast = tf.zeros([48 << 20]);
  outputs.convGradFilterAfterGrowth = filterGrad(normal([8, 64, 64, 16]));
  ballast.dispose();

  // The half-pixel bilinear upsampling gradient, its images split over the threads.
  const small = normal([8, 32, 32, 16]);
  const up = normal([8, 64, 64, 16]);
  outputs.resizeBilinearGrad = tf.grad((si: tf.Tensor) =>
    tf.sum(tf.mul(tf.image.resizeBilinear(si as tf.Tensor4D, [64, 64], false, true), up)),
  )(small);

  // Scalar arithmetic on a large tensor (spread over rows) and the per-channel sums of
  // BatchNorm (an average pool over rows).
  const big = normal([96, 1024]);
  outputs.scalarMul = tf.mul(big, 0.3);
  outputs.scalarSub = tf.sub(1, big);
  outputs.scalarDiv = tf.div(big, 7);
  outputs.rowMeans = tf.avgPool(big.reshape([12, 8, 1, 1024]) as tf.Tensor4D, [8, 1], [8, 1], 'valid');

  // A transposed operand large enough for its transpose to be split over the threads.
  outputs['matMul-large-tA'] = tf.matMul(normal([520, 1000]), normal([520, 96]), true, false);

  // One SGD step of a small conv + attention-like net: conv → relu → tokens·tokensᵀ softmax → dense.
  const params = {
    c1: tf.variable(normal([3, 3, 1, 8]).mul(0.3)),
    c2: tf.variable(normal([3, 3, 8, 16]).mul(0.1)),
    q: tf.variable(normal([16, 16]).mul(0.2)),
    d: tf.variable(normal([16, 1]).mul(0.2)),
  };
  const img = normal([4, 32, 32, 1]);
  const target = normal([4, 64, 1]);
  const loss = () =>
    tf.tidy(() => {
      let h = tf.relu(tf.conv2d(img as tf.Tensor4D, params.c1 as tf.Tensor4D, 2, 'same'));
      h = tf.relu(tf.conv2d(h, params.c2 as tf.Tensor4D, 2, 'same')); // [4, 8, 8, 16]
      // Weights multiply 2-D views: tfjs's matMul gradient does not reduce broadcast batch dims.
      const tokens = h.reshape([4, 64, 16]);
      const queries = tf.matMul(h.reshape([4 * 64, 16]), params.q).reshape([4, 64, 16]);
      const att = tf.softmax(tf.matMul(queries, tokens, false, true).div(4));
      const mixed = tf.matMul(att, tokens);
      const out = tf.matMul(mixed.reshape([4 * 64, 16]), params.d);
      return tf.losses.meanSquaredError(target.reshape([4 * 64, 1]), out) as tf.Scalar;
    });
  const optimizer = tf.train.sgd(0.05);
  outputs.loss = optimizer.minimize(loss, true)!;
  for (const [k, v] of Object.entries(params)) outputs[`step-${k}`] = v;

  const bytes: Record<string, string> = {};
  for (const [k, t] of Object.entries(outputs)) {
    bytes[k] = Buffer.from((t.dataSync() as Float32Array).buffer).toString('base64');
  }
  process.stdout.write(`${JSON.stringify({ report, bytes, heapWorkers: heapWorkerCount() })}\n`);
}

// Memory reads at preset sizes: the per-window decoder memory block (16 images, 16×16×64 map,
// 2×2 windows → slot dim 4096, 200 slots), eval forward and training step; and a queue read +
// enqueue (D = 2048, 200 slots). One JSON line per measurement:
// { bench, backend, op, shape, ms, imagesPerSec? }.
import { describeBackend, initBackend, Rng, tf } from '@squid-ad/backend';
import { medianMs } from '@squid-ad/test-utils/bench';
import { MemoryMatrixBlock, MemoryQueue } from '../src/index.js';

const quick = process.argv.includes('--quick');
const batch = quick ? 4 : 16;
const budgetMs = quick ? 1000 : 4000;

const median = (fn: () => void) => medianMs(fn, budgetMs);

for (const backend of ['wasm', 'cpu'] as const) {
  console.error(describeBackend(await initBackend({ backend })));
  const rng = Rng.fromSeed(0);
  const emit = (op: string, shape: string, ms: number, images?: number) =>
    process.stdout.write(
      `${JSON.stringify({
        bench: 'memory-queue',
        backend,
        op,
        shape,
        ms: +ms.toFixed(2),
        ...(images ? { imagesPerSec: +((1000 * images) / ms).toFixed(1) } : {}),
      })}\n`,
    );

  const block = new MemoryMatrixBlock({
    numMemory: 4,
    slots: 200,
    channels: 64,
    height: 16,
    width: 16,
    shrink: 5,
    rng,
  });
  const x = tf.randomNormal([batch, 16, 16, 64], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const shape = `x=[${x.shape}] windows=4 dim=${block.dim} slots=200`;
  emit(
    'window-block-eval',
    shape,
    median(() => tf.dispose(block.apply(x, { training: false }).dataSync())),
    batch,
  );
  emit(
    'window-block-train-step',
    shape,
    median(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(block.apply(x, { training: true, rng }))) as tf.Scalar,
      );
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
    }),
    batch,
  );
  x.dispose();
  block.dispose();

  const queue = new MemoryQueue({ slots: 200, dim: 2048, shrink: 5, rng });
  const q = tf.randomNormal([batch, 2048], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor2D;
  emit(
    'queue-read+enqueue',
    `q=[${q.shape}] slots=200`,
    median(() => {
      const { out, attention } = queue.read(q);
      out.dataSync();
      tf.dispose([out, attention]);
      queue.enqueue(q);
    }),
  );
  q.dispose();
  queue.dispose();
}

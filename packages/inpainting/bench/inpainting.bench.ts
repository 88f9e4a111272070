// InpaintBlock at the zhanglab/chexpert preset size (2×2 patches, 4×4×512 bottleneck,
// D = 2048, 200 slots, batch 16): eval forward and a training step (forward + backward +
// queue update), on wasm and cpu. One JSON line per measurement:
// { bench, backend, op, shape, ms, imagesPerSec }.
import { describeBackend, initBackend, Rng, tf } from '@squid-ad/backend';
import { medianMs } from '@squid-ad/test-utils/bench';
import { InpaintBlock } from '../src/index.js';

const quick = process.argv.includes('--quick');
const batch = quick ? 4 : 16;
const budgetMs = quick ? 1000 : 4000;

const median = (fn: () => void) => medianMs(fn, budgetMs);

for (const backend of ['wasm', 'cpu'] as const) {
  console.error(describeBackend(await initBackend({ backend })));
  const rng = Rng.fromSeed(0);
  const block = new InpaintBlock({
    channels: 512,
    numPatch: 2,
    height: 4,
    width: 4,
    slots: 200,
    shrink: 5,
    rng,
  });
  const x = tf.randomNormal([batch * 4, 4, 4, 512], 0, 1, 'float32', rng.tfSeed()) as tf.Tensor4D;
  const shape = `x=[${x.shape}] D=${block.dim} slots=200`;
  const emit = (op: string, ms: number) =>
    process.stdout.write(
      `${JSON.stringify({ bench: 'inpainting', backend, op, shape, ms: +ms.toFixed(2), imagesPerSec: +((1000 * batch) / ms).toFixed(1) })}\n`,
    );
  emit(
    'eval-forward',
    median(() => tf.dispose(block.apply(x, { training: false }).dataSync())),
  );
  emit(
    'train-step',
    median(() => {
      const { value, grads } = tf.variableGrads(
        () => tf.mean(tf.square(block.apply(x, { training: true, rng }))) as tf.Scalar,
      );
      value.dataSync();
      tf.dispose([value, ...Object.values(grads)]);
      block.updateQueues();
    }),
  );
  x.dispose();
  block.dispose();
}

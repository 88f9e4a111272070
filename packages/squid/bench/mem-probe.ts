import { type BackendChoice, initBackend, measurePeakMemory, Rng, tf } from '@squid-ad/backend';
import { createSquidModel, getPreset, SquidTrainer } from '../src/index.js';

const argv = process.argv.slice(2);
const backend = (argv[0] ?? 'cpu') as BackendChoice;
const batch = Number(argv[1] ?? 2);
const preset = (argv[2] ?? 'digitanatomy') as 'digitanatomy';
const r = await initBackend({ backend });
console.log(JSON.stringify(r));
const squid = getPreset(preset);
squid.train.batchSize = batch;
const model = createSquidModel(squid, Rng.fromSeed(0));
const trainer = new SquidTrainer(model, squid, Rng.fromSeed(1));
const S = squid.model.imageSize;
const x = tf.randomUniform([batch, S, S, 1]) as tf.Tensor4D;
const heap = () => {
  const b = tf.backend() as unknown as { wasm?: { HEAPU8: Uint8Array } };
  return b.wasm ? Math.round(b.wasm.HEAPU8.buffer.byteLength / 2 ** 20) : -1;
};
console.log('params MB', Math.round(tf.memory().numBytes / 2 ** 20), 'heap', heap());
for (let i = 0; i < Number(process.env.N ?? 2); i++) {
  const t0 = performance.now();
  const m = measurePeakMemory(() => trainer.step(x, 0, i));
  console.log(
    JSON.stringify({
      i,
      ms: Math.round(performance.now() - t0),
      peakMB: Math.round(m.peakBytes / 2 ** 20),
      endMB: Math.round(m.endBytes / 2 ** 20),
      heapMB: heap(),
    }),
  );
}

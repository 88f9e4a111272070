// Training throughput of the official presets at batch 16: images/s of a full iteration
// (D step + G step + queue update, n_critic as in the preset) and the split of an iteration
// into data, forward, backward, optimizer and queue-update time. One JSON line per preset:
// { bench, backend, preset, batch, steps, imagesPerSec, msPerIteration, ms: {data, forward, backward, optimizer, queue} }.
// `--quick`: 1 timed cycle instead of 3. `--backend NAME` picks the backend (default auto);
// `--presets digitanatomy,zhanglab` a subset. Needs `pnpm build` first (tsx loads the packages'
// dist). model.bench.ts times the same iteration without the data loader, next to the reference.
import { type BackendChoice, describeBackend, initBackend, Rng } from '@squid-ad/backend';
import { ImageDataset } from '@squid-ad/datasets';
import {
  createSquidModel,
  getPreset,
  parseRunConfig,
  SquidTrainer,
  type TrainingData,
  trainingData,
} from '../src/index.js';

const quick = process.argv.includes('--quick');
const backendArg = process.argv[process.argv.indexOf('--backend') + 1];
const backend = (process.argv.includes('--backend') ? backendArg : 'auto') as BackendChoice;
const report = await initBackend({ backend });
console.error(describeBackend(report));
const timed = quick ? 1 : 3;

/** A stand-in for the chest data: in-memory random images with the preset's affine augmentation. */
function syntheticChest(size: number): ImageDataset {
  const items = Array.from({ length: 64 }, (_, i) => ({ path: `synthetic/${i}`, label: 0 as const }));
  return new ImageDataset('synthetic-chest', size, items, async (_item, index) => {
    const r = Rng.fromSeed(index);
    return Float32Array.from({ length: size * size }, () => r.next());
  });
}

const presetsArg = process.argv.includes('--presets')
  ? process.argv[process.argv.indexOf('--presets') + 1].split(',')
  : null;
for (const presetName of ['digitanatomy', 'zhanglab'] as const) {
  if (presetsArg && !presetsArg.includes(presetName)) continue;
  const squid = getPreset(presetName);
  squid.train.batchSize = 16;
  const config = parseRunConfig({ squid, run: {} }, 'bench');
  const data: TrainingData =
    presetName === 'digitanatomy'
      ? await trainingData(config)
      : {
          train: syntheticChest(squid.model.imageSize),
          val: null,
          augment: { translate: 0.05, scale: [0.95, 1.05] },
        };
  const model = createSquidModel(squid, Rng.fromSeed(0));
  const trainer = new SquidTrainer(model, squid, Rng.fromSeed(1));
  const stream = data.train.batches({
    batchSize: 16,
    seed: 0,
    augment: data.augment,
    epochs: Number.POSITIVE_INFINITY,
    dropLast: true,
  });
  const { nCritic } = squid.train;
  // Whole cycles of n_critic iterations (one with a G step), after one warm-up cycle.
  const run = async (cycles: number) => {
    let it = 0;
    for (let c = 0; c < cycles; c++) {
      for (let s = 0; s < nCritic; s++) {
        const t0 = performance.now();
        const b = (await stream.next()).value!;
        trainer.timings.data += performance.now() - t0;
        trainer.step(b.images, s, it++);
        b.images.dispose();
      }
    }
    return it;
  };
  await run(1);
  for (const k of Object.keys(trainer.timings) as (keyof typeof trainer.timings)[]) trainer.timings[k] = 0;
  const t0 = performance.now();
  const iterations = await run(timed);
  const ms = performance.now() - t0;
  const per = (v: number) => Math.round((v / iterations) * 10) / 10;
  const t = trainer.timings;
  console.log(
    JSON.stringify({
      bench: 'squid-train',
      backend: report.backend,
      preset: presetName,
      batch: 16,
      nCritic,
      steps: iterations,
      imagesPerSec: Math.round(((iterations * 16) / (ms / 1000)) * 100) / 100,
      msPerIteration: per(ms),
      ms: {
        data: per(t.data),
        forward: per(t.forward),
        backward: per(t.backward),
        optimizer: per(t.optimizer),
        queue: per(t.queue),
      },
    }),
  );
  await stream.return(undefined);
  trainer.dispose();
  model.dispose();
}

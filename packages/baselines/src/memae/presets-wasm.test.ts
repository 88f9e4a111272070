import { Rng, tf } from '@squid-ad/backend';
import { checkImages, type ModelPlugin, PRESET_NAMES } from '@squid-ad/model-api';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import type { MemaeConfig, MemaeSquidConfig } from './config.js';
import { memaePlugin } from './memae.js';
import { memaeSquidPlugin } from './memae-squid.js';

// biome-ignore lint/suspicious/noExplicitAny: the two plug-ins' configs differ
const plugins: ModelPlugin<any>[] = [memaePlugin, memaeSquidPlugin] as [
  ModelPlugin<MemaeConfig>,
  ModelPlugin<MemaeSquidConfig>,
];

// On wasm, the backend users get: the full-width networks at 96 and 128 px are too slow for
// TensorFlow.js's plain-JS cpu kernels in a test.
describe.each(BACKEND_VARIANTS.filter((v) => v.backend === 'wasm'))(
  'MemAE on wasm (native kernels: $nativeKernels)',
  (variant) => {
    let unavailable: string | undefined;
    beforeAll(async () => {
      unavailable = await startVariant(variant);
    });

    for (const plugin of plugins)
      it(`${plugin.name}: infer gives [1, S, S, 1] in [0, 1] and one finite score at every preset size`, (ctx) => {
        if (unavailable) ctx.skip(unavailable);
        // Shapes do not depend on the kernels: once, on the stock kernels every install has.
        if (variant.nativeKernels) ctx.skip('shapes are checked on the stock wasm kernels');
        // Each size once (zhanglab and chexpert share 128 px and the network).
        for (const preset of PRESET_NAMES.filter((p) => p !== 'chexpert')) {
          const config = plugin.presetConfig(preset);
          const model = plugin.create(config, 0);
          const x = checkImages(1, config.imageSize, 2);
          const { recon, raw } = model.infer(x);
          expect(recon.shape, preset).toEqual([1, config.imageSize, config.imageSize, 1]);
          expect(raw.shape, preset).toEqual([1]);
          expect(Number.isFinite(raw.dataSync()[0]), preset).toBe(true);
          const [lo, hi] = tf.tidy(() => [tf.min(recon).dataSync()[0], tf.max(recon).dataSync()[0]]);
          expect(lo).toBeGreaterThanOrEqual(0);
          expect(hi).toBeLessThanOrEqual(1);
          tf.dispose([recon, raw, x]);
          model.dispose();
        }
      });

    for (const plugin of plugins)
      it(`${plugin.name}: a training step at the tiny preset has finite losses, moves the weights and leaks nothing`, (ctx) => {
        if (unavailable) ctx.skip(unavailable);
        const config = plugin.presetConfig('tiny');
        const model = plugin.create(config, 1);
        const trainer = model.createTrainer(Rng.fromSeed(2));
        trainer.setEpoch(0);
        const x = checkImages(config.train.batchSize, config.imageSize, 3);
        const before = model.state().map((e) => e.variable.dataSync().slice());
        const tensors = tf.memory().numTensors;
        const losses = trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 1 });
        expect(tf.memory().numTensors).toBe(tensors);
        for (const v of Object.values(losses)) expect(Number.isFinite(v)).toBe(true);
        expect(Object.keys(trainer.timings ?? {})).toEqual(['forward', 'backward', 'optimizer']);
        expect(Object.values(trainer.timings ?? {}).every((ms) => ms > 0)).toBe(true);
        const moved = model
          .state()
          .filter((e) => e.kind === 'parameter')
          .map((e) => e.name)
          .filter((name) => {
            const i = model.state().findIndex((e) => e.name === name);
            return model
              .state()
              [i].variable.dataSync()
              .some((v, j) => v !== before[i][j]);
          });
        // The memory learns; conv biases before a batch-statistics BatchNorm may not (their
        // gradient is zero up to rounding), so "most", not "all".
        expect(moved).toContain(plugin.name === 'memae' ? 'mem_rep.memory.weight' : 'memory.memMatrix');
        expect(moved.length).toBeGreaterThan(model.state().filter((e) => e.kind === 'parameter').length / 2);
        x.dispose();
        trainer.dispose();
        model.dispose();
      });
  },
);

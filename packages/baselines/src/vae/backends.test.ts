import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages, type ModelPlugin } from '@squid-ad/model-api';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { describe, expect, it } from 'vitest';
import type { AeConfig } from '../ae/config.js';
import { aePlugin } from '../ae/plugin.js';
import type { VaeConfig } from './config.js';
import { vaePlugin } from './plugin.js';

// Users train on wasm (with the oneDNN kernels when present): every op of a training step needs
// its gradient there. Two steps at the tiny preset per wasm variant, losses against cpu's (with
// the kernels when present, as the other tests here run; plain tfjs cpu takes seconds a step).
const plugins: [string, ModelPlugin<AeConfig | VaeConfig>][] = [
  ['ae', aePlugin],
  ['vae', vaePlugin],
];

function twoSteps(plugin: ModelPlugin<AeConfig | VaeConfig>): Record<string, number>[] {
  const model = plugin.create(plugin.presetConfig('tiny'), 0);
  const trainer = model.createTrainer(Rng.fromSeed(3));
  const x = checkImages(4, 48, 8);
  const before = tf.memory().numTensors;
  const losses = [0, 1].map((i) =>
    trainer.step(x, { epoch: 0, stepInEpoch: i, iteration: i, totalIterations: 2 }),
  );
  expect(tf.memory().numTensors).toBe(before);
  trainer.dispose();
  model.dispose();
  x.dispose();
  return losses;
}

const reference = new Map<string, Record<string, number>[]>();

describe.each(BACKEND_VARIANTS.filter((v) => v.backend === 'wasm'))(
  'training steps on $backend (native kernels: $nativeKernels)',
  (variant) => {
    it.for(plugins)('%s: finite losses close to cpu', async ([name, plugin], ctx) => {
      if (!reference.has(name)) {
        await initBackend({ backend: 'cpu' });
        reference.set(name, twoSteps(plugin));
      }
      const unavailable = await startVariant(variant);
      if (unavailable) ctx.skip(unavailable);
      const losses = twoSteps(plugin);
      const cpu = reference.get(name)!;
      for (let i = 0; i < 2; i++)
        for (const [k, v] of Object.entries(cpu[i])) {
          expect(Number.isFinite(losses[i][k])).toBe(true);
          expect(Math.abs(losses[i][k] - v), `step ${i} ${k}: ${losses[i][k]} vs cpu ${v}`).toBeLessThan(
            1e-3 * Math.abs(v) + 1e-5,
          );
        }
    });
  },
);

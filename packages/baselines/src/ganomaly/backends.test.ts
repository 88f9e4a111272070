import { initBackend, Rng, tf } from '@squid-ad/backend';
import { checkImages } from '@squid-ad/model-api';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { ganomalyPresetConfig } from './config.js';
import { GanomalyModel } from './model.js';

/**
 * Two steps of a small GANomaly (24 px padded to 32: every op of the real presets, cheap enough for
 * stock cpu kernels), the second one re-initialising D (threshold raised); the state after.
 */
function twoSteps(): { losses: Record<string, number>[]; dWeight: Float32Array; score: Float32Array } {
  const base = { ...ganomalyPresetConfig('tiny'), imageSize: 24, network: { nz: 8, ngf: 4 } };
  const model = new GanomalyModel(base, 1);
  const trainer = model.createTrainer(Rng.fromSeed(2));
  const x = checkImages(3, 24, 3);
  const losses = [trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 2 })];
  (model.config.loss as { dResetBelow: number }).dResetBelow = 10;
  losses.push(trainer.step(x, { epoch: 0, stepInEpoch: 1, iteration: 1, totalIterations: 2 }));
  const dWeight = model.discriminator.net.final.weight.dataSync().slice() as Float32Array;
  const out = model.infer(x);
  const score = out.raw.dataSync().slice() as Float32Array;
  tf.dispose([x, out.raw, out.recon]);
  trainer.dispose();
  model.dispose();
  return { losses, dWeight, score };
}

let reference: ReturnType<typeof twoSteps>;

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  reference = twoSteps();
});

describe.each(BACKEND_VARIANTS)(
  'GANomaly training on $backend (native kernels: $nativeKernels)',
  (variant) => {
    let unavailable: string | undefined;

    beforeAll(async () => {
      unavailable = await startVariant(variant);
    });

    it('trains and re-initialises D as on cpu: losses and scores to 1e-4, the re-drawn D bit for bit', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const got = twoSteps();
      expect(got.losses[1].d_reset).toBe(1);
      got.losses.forEach((step, i) => {
        for (const [k, v] of Object.entries(reference.losses[i]))
          expect(Math.abs(step[k] - v), `step ${i} ${k}: ${step[k]} vs cpu ${v}`).toBeLessThanOrEqual(
            1e-4 * Math.max(1, Math.abs(v)),
          );
      });
      got.score.forEach((v, i) => {
        expect(Math.abs(v - reference.score[i])).toBeLessThanOrEqual(
          1e-4 * Math.max(1e-2, Math.abs(reference.score[i])),
        );
      });
      // weights_init draws its numbers in JavaScript: the same on every backend
      expect(Array.from(got.dWeight)).toEqual(Array.from(reference.dWeight));
    });
  },
);

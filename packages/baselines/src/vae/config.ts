import { PRESET_IMAGE_SIZE, type PresetName } from '@squid-ad/model-api';
import { z } from 'zod';
import {
  dcganAdamSchema,
  dcganNetworkSchema,
  presetNetwork,
  presetSchedule,
  recipeFields,
} from '../ae/config.js';

/** The VAE's config: GANomaly's DCGAN encoder (2·nz outputs: μ, log σ²) and decoder, Adam. */
export const vaeConfigSchema = z.object({
  ...recipeFields,
  network: dcganNetworkSchema,
  loss: z
    .object({
      /**
       * σ_x², the fixed variance of the Gaussian decoder in [−1, 1] pixel units: the
       * reconstruction term is Σ_pixels (x − x̂)² / (2 σ_x²). 0.5 makes it the plain per-image sum
       * of squared errors (PyTorch `mse_loss(reduction='sum')` + KL, the usual VAE code).
       */
      decoderVariance: z.number().positive().default(0.5),
    })
    .prefault({}),
  optimizer: dcganAdamSchema,
});
export type VaeConfig = z.output<typeof vaeConfigSchema>;
export type VaeConfigInput = z.input<typeof vaeConfigSchema>;

/** The VAE's recipe for a preset's data (the same network and schedule as the AE's). */
export function vaePresetConfig(preset: PresetName): VaeConfig {
  return vaeConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: presetSchedule(preset),
    network: presetNetwork(preset),
  });
}

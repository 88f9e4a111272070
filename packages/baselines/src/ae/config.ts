import {
  PRESET_IMAGE_SIZE,
  PRESET_NAMES,
  type PresetName,
  type TrainSchedule,
  trainScheduleSchema,
} from '@squid-ad/model-api';
import { z } from 'zod';

/**
 * Adam as GANomaly trains its generator (lib/options.py: lr 2e-4, β1 0.5; PyTorch's β2 0.999,
 * eps 1e-8, no weight decay). AE and VAE use it: same network as GANomaly, same optimiser.
 */
export const dcganAdamSchema = z
  .object({
    lr: z.number().positive().default(2e-4),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.5, 0.999]),
    eps: z.number().min(0).default(1e-8),
    /** L2 penalty added to the gradient (PyTorch Adam `weight_decay`). */
    weightDecay: z.number().min(0).default(0),
  })
  .prefault({});
export type DcganAdamConfig = z.output<typeof dcganAdamSchema>;

/** GANomaly's DCGAN encoder/decoder widths (lib/networks.py defaults: nz 100, ngf 64). */
export const dcganNetworkSchema = z
  .object({
    /** Latent size (the AE's bottleneck; the VAE's μ and log σ² each have this many entries). */
    nz: z.number().int().positive().default(100),
    /** Channels of the first encoder conv (the last decoder layer's input); doubled per level. */
    ngf: z.number().int().positive().default(64),
  })
  .prefault({});
export type DcganNetworkConfig = z.output<typeof dcganNetworkSchema>;

/** The fields every baseline config has: preset, image size (16 px or more), schedule. */
export const recipeFields = {
  preset: z.enum(PRESET_NAMES),
  /** Side of the input images; the network pads it to the next power of two. */
  imageSize: z.number().int().min(16),
  train: trainScheduleSchema.prefault({}),
};

/** The convolutional auto-encoder's config: GANomaly's encoder → nz → decoder, MSE, Adam. */
export const aeConfigSchema = z.object({
  ...recipeFields,
  network: dcganNetworkSchema,
  optimizer: dcganAdamSchema,
});
export type AeConfig = z.output<typeof aeConfigSchema>;
export type AeConfigInput = z.input<typeof aeConfigSchema>;

/**
 * The SQUID preset's schedule, so every model sees the same data stream: batch 16, 200 epochs,
 * full epochs (CheXpert: 84 iterations, as the official config); tiny: batch 4, 2 epochs.
 */
export function presetSchedule(preset: PresetName): Omit<TrainSchedule, 'seed'> {
  if (preset === 'tiny') return { batchSize: 4, epochs: 2, iterationsPerEpoch: null };
  return { batchSize: 16, epochs: 200, iterationsPerEpoch: preset === 'chexpert' ? 84 : null };
}

/**
 * The network at a preset: GANomaly's defaults (nz 100, ngf 64) on real data; a small one at
 * `tiny` (the test size: nz 16, ngf 8) so that a training step stays well under a second on cpu.
 */
export function presetNetwork(preset: PresetName): DcganNetworkConfig {
  return preset === 'tiny' ? { nz: 16, ngf: 8 } : { nz: 100, ngf: 64 };
}

/** The AE's recipe for a preset's data. */
export function aePresetConfig(preset: PresetName): AeConfig {
  return aeConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: presetSchedule(preset),
    network: presetNetwork(preset),
  });
}

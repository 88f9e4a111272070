import {
  PRESET_IMAGE_SIZE,
  PRESET_NAMES,
  type PresetName,
  type TrainSchedule,
  trainScheduleSchema,
} from '@squid-ad/model-api';
import { z } from 'zod';

/** GANomaly's networks (lib/options.py defaults: nz 100, ngf 64; `ndf` is unused by the official code). */
export const ganomalyNetworkSchema = z
  .object({
    /** Latent size of G's two encoders (the score averages over it). */
    nz: z.number().int().positive().default(100),
    /** Width of the first conv of every encoder and of the decoder's last layer; D uses it too. */
    ngf: z.number().int().positive().default(64),
  })
  .prefault({});

/** The generator loss weights (lib/options.py `w_adv`, `w_con`, `w_enc`). */
export const ganomalyLossSchema = z
  .object({
    /** Feature matching on D's 4×4 features. */
    wAdv: z.number().min(0).default(1),
    /** L1 between the image and its reconstruction. */
    wCon: z.number().min(0).default(50),
    /** MSE between the two latents. */
    wEnc: z.number().min(0).default(1),
    /** D is re-initialised after a step whose L_D is below this (lib/model.py: 1e-5). */
    dResetBelow: z.number().min(0).default(1e-5),
  })
  .prefault({});

/** Adam for G and for D (lib/options.py: lr 2e-4, beta1 0.5; PyTorch's beta2 0.999, eps 1e-8). */
export const ganomalyAdamSchema = z
  .object({
    lr: z.number().positive().default(2e-4),
    betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0.5, 0.999]),
    eps: z.number().min(0).default(1e-8),
  })
  .prefault({});

/** GANomaly's config: the run recipe plus the official networks, loss weights and optimiser. */
export const ganomalyConfigSchema = z.object({
  preset: z.enum(PRESET_NAMES),
  /** Side of the input images (≥ 16); the network pads them to the next power of two. */
  imageSize: z.number().int().min(16),
  train: trainScheduleSchema.prefault({}),
  network: ganomalyNetworkSchema,
  loss: ganomalyLossSchema,
  optimizer: ganomalyAdamSchema,
});
export type GanomalyConfig = z.output<typeof ganomalyConfigSchema>;
export type GanomalyConfigInput = z.input<typeof ganomalyConfigSchema>;

/** The SQUID preset's schedule (batch 16, 200 epochs, CheXpert 84 iterations; tiny: batch 4, 2 epochs). */
function presetSchedule(preset: PresetName): Omit<TrainSchedule, 'seed'> {
  if (preset === 'tiny') return { batchSize: 4, epochs: 2, iterationsPerEpoch: null };
  return { batchSize: 16, epochs: 200, iterationsPerEpoch: preset === 'chexpert' ? 84 : null };
}

/**
 * GANomaly's recipe for a preset's data: the official networks (nz 100, ngf 64), weights and Adam;
 * SQUID's schedule so every model sees the same data stream. `tiny` (the test size) uses nz 16,
 * ngf 8 so a training step stays fast.
 */
export function ganomalyPresetConfig(preset: PresetName): GanomalyConfig {
  return ganomalyConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: presetSchedule(preset),
    network: preset === 'tiny' ? { nz: 16, ngf: 8 } : { nz: 100, ngf: 64 },
  });
}

import {
  baseConfigSchema,
  PRESET_IMAGE_SIZE,
  type PresetName,
  type TrainSchedule,
} from '@squid-ad/model-api';
import { z } from 'zod';

/**
 * f-AnoGAN's settings. Defaults are the official TensorFlow code's (tSchlegl/f-AnoGAN,
 * wgangp_64x64.py and z_encoding_izif.py) except `ganFraction`, which nobody published in
 * these terms (see the package docs).
 */
export const fAnoGanConfigSchema = baseConfigSchema
  .extend({
    // preset, imageSize (any: the networks always run at 64 px) and train come from the base.
    /** DIM: base width of G, D and E (64 officially). */
    dim: z.number().int().positive().default(64),
    /** ZDIM: latent size (128). */
    zDim: z.number().int().positive().default(128),
    /** Share of the run's iterations spent in stage 1 (WGAN-GP); the rest trains the encoder. */
    ganFraction: z.number().min(0).max(1).default(0.5),
    /** CRITIC_ITERS: critic updates per generator update (5). */
    criticIters: z.number().int().positive().default(5),
    /** LAMBDA: weight of the gradient penalty (10). */
    gpWeight: z.number().nonnegative().default(10),
    /** κ: weight of the feature residual in the encoder loss and the score (1.0). */
    kappa: z.number().nonnegative().default(1),
    /** Stage 1 Adam, G and D alike: lr 1e-4, β1 = 0, β2 = 0.9, ε 1e-8 (TF AdamOptimizer). */
    ganLr: z.number().positive().default(1e-4),
    ganBetas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]).default([0, 0.9]),
    ganEps: z.number().nonnegative().default(1e-8),
    /** Stage 2 RMSProp (TF RMSPropOptimizer): lr 5e-5, decay 0.9, momentum 0, ε 1e-10. */
    encoderLr: z.number().positive().default(5e-5),
    encoderDecay: z.number().min(0).lt(1).default(0.9),
    encoderMomentum: z.number().nonnegative().default(0),
    encoderEps: z.number().nonnegative().default(1e-10),
  })
  .strict();

export type FAnoGanConfig = z.output<typeof fAnoGanConfigSchema>;

/** The SQUID presets' data stream: every model sees the same batches. */
function presetSchedule(preset: PresetName): Partial<TrainSchedule> {
  if (preset === 'tiny') return { batchSize: 4, epochs: 2 };
  return { batchSize: 16, epochs: 200, iterationsPerEpoch: preset === 'chexpert' ? 84 : null };
}

/**
 * f-AnoGAN for a preset's data: the official networks and optimisers; the preset's image size
 * and schedule. `tiny` (the test size) runs a narrow network (dim 4) so a step stays fast.
 */
export function fAnoGanPresetConfig(preset: PresetName): FAnoGanConfig {
  return fAnoGanConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: presetSchedule(preset),
    ...(preset === 'tiny' ? { dim: 4 } : {}),
  });
}

/** Iterations of stage 1 (WGAN-GP) in a run of `total` iterations; the rest are stage 2. */
export function ganIterations(total: number, ganFraction: number): number {
  return Math.min(total, Math.round(total * ganFraction));
}

import {
  baseConfigSchema,
  PRESET_IMAGE_SIZE,
  type PresetName,
  type TrainSchedule,
} from '@squid-ad/model-api';
import { z } from 'zod';

/**
 * The SQUID preset's schedule, so every model sees the same data stream: batch 16, 200 epochs,
 * full epochs (CheXpert: 84 iterations, as the official config); tiny: batch 4, 2 epochs.
 */
export function memaeSchedule(preset: PresetName): Omit<TrainSchedule, 'seed'> {
  if (preset === 'tiny') return { batchSize: 4, epochs: 2, iterationsPerEpoch: null };
  return { batchSize: 16, epochs: 200, iterationsPerEpoch: preset === 'chexpert' ? 84 : null };
}

const betas = z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]);

// ---------------------------------------------------------------------------------------------
// memae: Gong et al., ICCV 2019

/**
 * Gong et al.'s 2-D image MemAE (paper §4; the official code is 3-D video only): stride-2
 * conv encoder, per-position memory addressing, ConvTranspose decoder.
 */
export const memaeNetworkSchema = z
  .object({
    /** Output channels of the encoder convs Conv(3, 2): the paper's CIFAR-10 encoder 64, 128, 256. */
    encoderWidths: z.array(z.number().int().positive()).min(1).default([64, 128, 256]),
    /**
     * Output channels of every decoder Dconv(3, 2) but the last (which outputs the image): the
     * paper's MNIST pattern Dconv(3,2,64)–Dconv(3,2,32)–Dconv(3,2,1) for encoder 16, 32, 64
     * carried over to the CIFAR widths, 256, 128. One fewer than `encoderWidths`.
     */
    decoderWidths: z.array(z.number().int().positive()).default([256, 128]),
    /** Memory slots N (paper: 100 for MNIST, 500 for CIFAR-10). */
    memorySlots: z.number().int().positive().default(500),
    /** Hard-shrinkage threshold λ on the softmax weights (code default 0.0025; ≤ 0 turns it off). */
    shrinkThreshold: z.number().default(0.0025),
  })
  .prefault({});
export type MemaeNetworkConfig = z.output<typeof memaeNetworkSchema>;

/** Adam as the official MemAE trains (script_training.py: lr 1e-4, PyTorch defaults otherwise, no schedule). */
export const memaeOptimizerSchema = z
  .object({
    lr: z.number().positive().default(1e-4),
    betas: betas.default([0.9, 0.999]),
    eps: z.number().min(0).default(1e-8),
    /** L2 penalty added to the gradient (PyTorch Adam `weight_decay`). */
    weightDecay: z.number().min(0).default(0),
  })
  .prefault({});

/** The config of the `memae` plug-in. */
export const memaeConfigSchema = baseConfigSchema
  .extend({
    network: memaeNetworkSchema,
    loss: z
      .object({
        /** α, the weight of the addressing-entropy loss (EntropyLossWeight 0.0002). */
        entropyWeight: z.number().min(0).default(0.0002),
      })
      .prefault({}),
    optimizer: memaeOptimizerSchema,
  })
  .superRefine((c, ctx) => {
    const levels = c.network.encoderWidths.length;
    if (c.network.decoderWidths.length !== levels - 1)
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'decoderWidths'],
        message: `needs ${levels - 1} entries (one fewer than encoderWidths), got ${c.network.decoderWidths.length}`,
      });
    if (c.imageSize % 2 ** levels !== 0)
      ctx.addIssue({
        code: 'custom',
        path: ['imageSize'],
        message: `${c.imageSize} is not divisible by 2^${levels} (${levels} stride-2 convs, mirrored by Dconvs)`,
      });
  });
export type MemaeConfig = z.output<typeof memaeConfigSchema>;
export type MemaeConfigInput = z.input<typeof memaeConfigSchema>;

/** `memae` at a preset: the paper's CIFAR-10 model; widths 8/16/32 at `tiny` (the test size). */
export function memaePresetConfig(preset: PresetName): MemaeConfig {
  const network =
    preset === 'tiny' ? { encoderWidths: [8, 16, 32], decoderWidths: [32, 16], memorySlots: 500 } : {};
  return memaeConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: memaeSchedule(preset),
    network,
  });
}

// ---------------------------------------------------------------------------------------------
// memae-squid: the SQUID authors' own MemAE (SQUID repository @0db55e0)

/** The SQUID authors' MemAE network (models/baseline.py `AE`, configs/baseline_zhang.py). */
export const memaeSquidNetworkSchema = z
  .object({
    /** Width of `in_conv`; the channel list is f·[1, 2, 4, 8, 16, 16] (official 32). */
    featuresRoot: z.number().int().positive().default(32),
    /** Down/up blocks (official ZhangLab 5: 128 px → 4×4). */
    level: z.number().int().min(1).max(5).default(5),
    /** Memory slots (official 2000). */
    memorySlots: z.number().int().positive().default(2000),
    /**
     * Shrink threshold of the memory read (official 0.0015: hard shrinkage of the raw dot
     * products). As in the official code, an integer k > 0 switches to Gumbel top-k and 0 to none.
     */
    shrinkThreshold: z.number().min(0).default(0.0015),
  })
  .prefault({});
export type MemaeSquidNetworkConfig = z.output<typeof memaeSquidNetworkSchema>;

/** The config of the `memae-squid` plug-in. */
export const memaeSquidConfigSchema = baseConfigSchema.extend({
  network: memaeSquidNetworkSchema,
  loss: z
    .object({
      /** Weight of MSE(recon, x) (`recon_w` 10). */
      reconWeight: z.number().positive().default(10),
    })
    .prefault({}),
  optimizer: z
    .object({
      lr: z.number().positive().default(1e-4),
      betas: betas.default([0.5, 0.999]),
      eps: z.number().min(0).default(1e-7),
      /** L2 penalty added to the gradient (PyTorch Adam `weight_decay`, not AdamW). */
      weightDecay: z.number().min(0).default(1e-5),
    })
    .prefault({}),
  schedule: z
    .object({
      /** CosineAnnealingLR T_max, stepped once per epoch. */
      tMax: z.number().int().positive().default(300),
      /** eta_min = lr · minLrFactor (ZhangLab 0.1, CheXpert 0.5). */
      minLrFactor: z.number().min(0).max(1).default(0.1),
    })
    .prefault({}),
});
export type MemaeSquidConfig = z.output<typeof memaeSquidConfigSchema>;
export type MemaeSquidConfigInput = z.input<typeof memaeSquidConfigSchema>;

/**
 * `memae-squid` at a preset: configs/baseline_zhang.py (level 5) for zhanglab and digitanatomy
 * (96 px → 3×3×512); CheXpert's eta_min 0.5·lr but level 5, the only level whose 128-px bottleneck
 * fits the official memory's hard-coded slot size 8192; tiny: f = 8, level 4 (48 px → 3×3×128).
 */
export function memaeSquidPresetConfig(preset: PresetName): MemaeSquidConfig {
  return memaeSquidConfigSchema.parse({
    preset,
    imageSize: PRESET_IMAGE_SIZE[preset],
    train: memaeSchedule(preset),
    network: preset === 'tiny' ? { featuresRoot: 8, level: 4 } : {},
    schedule: preset === 'chexpert' ? { minLrFactor: 0.5 } : {},
  });
}

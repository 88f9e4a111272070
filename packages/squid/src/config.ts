import { discriminatorSize, filterList } from '@squid-ad/gan-core';
import { z } from 'zod';
import { describeUnknownKeys, unknownKeys } from './unknown-keys.js';

/** A decoder memory block of the official `decoder_memory` list (null = identity). */
export const decoderMemorySchema = z
  .object({
    /** `MemoryMatrixBlockV3`: one memory per patch, each patch flattened C,H,W. `MemoryMatrixBlock`: one memory per window. */
    type: z.enum(['MemoryMatrixBlockV3', 'MemoryMatrixBlock']),
    /** Slot dimension = `filterList[j] · multiplier` (the spatial size² of the vectors it reads). */
    multiplier: z.number().int().positive(),
    numMemory: z.number().int().positive(),
  })
  .nullable();
export type DecoderMemoryConfig = z.infer<typeof decoderMemorySchema>;

/** The generator (official `AE`) structure. Defaults: the DigitAnatomy preset. */
export const modelConfigSchema = z.object({
  imageSize: z.number().int().positive().default(96),
  inChannels: z.number().int().positive().default(1),
  featuresRoot: z.number().int().positive().default(32),
  /** Patches per side (`P`; the image is cut into P×P patches). */
  numPatch: z.number().int().positive().default(3),
  level: z.number().int().min(1).max(5).default(3),
  /** Encoder levels `i < initialCombine` keep stitched skips; the decoder stitches before step `level − initialCombine`. */
  initialCombine: z.number().int().min(1).default(1),
  ops: z.array(z.enum(['concat', 'none'])).default(['concat', 'concat', 'none']),
  /** Slots of each in-painting memory queue. */
  numSlots: z.number().int().positive().default(200),
  /** Gumbel shrinkage: an integer k → top-k; a non-integer λ → hard shrinkage. */
  shrink: z.number().positive().default(5),
  /** Keep-probability of the training-only Bernoulli masks (in-painting shortcut, decoder memories). */
  ratio: z.number().min(0).max(1).default(0.95),
  /** Dropout of the in-painting feed-forward. */
  drop: z.number().min(0).max(1).default(0),
  /** The official `dist` flag: teacher decoder and distillation loss (all official presets use it; see `ablation.teacher`). */
  dist: z.literal(true).default(true),
  /** Slots of each decoder memory matrix. */
  memNumSlots: z.number().int().positive().default(200),
  /** Indexed by U-Net level j (applied after decoder step `level − 1 − j`); length `level`. */
  decoderMemory: z
    .array(decoderMemorySchema)
    .default([
      null,
      { type: 'MemoryMatrixBlockV3', multiplier: 256, numMemory: 9 },
      { type: 'MemoryMatrixBlockV3', multiplier: 64, numMemory: 9 },
    ]),
});
export type ModelConfig = z.infer<typeof modelConfigSchema>;

/**
 * The component study of the paper (Table 2): each key takes one component out or swaps it; the
 * defaults are the official model, so a config without `ablation` builds exactly that. Where the
 * reference says nothing about how the paper ablated a component, the comment says what we chose.
 */
export const ablationSchema = z
  .object({
    /**
     * The in-painting block's memory: `queue` (official: real features, written after each
     * generator step, never trained) or `matrix` (a learned memory of the same size, trained by
     * backprop, never written). The decoder memories are learned matrices in both cases.
     */
    memory: z.enum(['queue', 'matrix']).default('queue'),
    /**
     * `true` (official): one memory per patch position (in-painting block) and per patch or
     * window (decoder memories). `false`: every memory is one memory shared by all positions (our
     * choice: the in-painting queue and the decoder memories alike; a shared queue is written
     * with the features of all patches).
     */
    spaceAware: z.boolean().default(true),
    /**
     * `gumbel` (official): the Gumbel top-k shrinkage of `model.shrink`. `softmax`: dense softmax
     * addressing, no shrinkage, in every memory read (in-painting block and decoder memories).
     */
    addressing: z.enum(['gumbel', 'softmax']).default('gumbel'),
    /** `false`: no in-painting block; the encoder bottleneck goes straight to the decoder. */
    inpainting: z.boolean().default(true),
    /**
     * The in-painting block's shortcut: `masked` (official: in training, per location the block
     * input with probability 1 − `model.ratio`), `residual` (in-painted + input, training and eval,
     * no mask) or `off` (in-painted value only). The decoder memories keep their own training mask.
     */
    shortcut: z.enum(['masked', 'residual', 'off']).default('masked'),
    /** `false`: no teacher decoder and no distillation (`loss.teacher` and `loss.dist` are unused). */
    teacher: z.boolean().default(true),
  })
  .prefault({});
export type AblationConfig = z.infer<typeof ablationSchema>;

/** Why an ablation combination has no meaning (empty when it has one); messages name the keys. */
export function ablationProblems(
  ablation: AblationConfig,
  model: Pick<ModelConfig, 'decoderMemory'>,
): { key: keyof AblationConfig; message: string }[] {
  const problems: { key: keyof AblationConfig; message: string }[] = [];
  const decoderMemories = model.decoderMemory.some((m) => m !== null);
  if (!ablation.inpainting) {
    if (ablation.memory !== 'queue')
      problems.push({
        key: 'memory',
        message: `ablation.memory '${ablation.memory}' has no meaning with ablation.inpainting false: that memory lives in the in-painting block`,
      });
    if (ablation.shortcut !== 'masked')
      problems.push({
        key: 'shortcut',
        message: `ablation.shortcut '${ablation.shortcut}' has no meaning with ablation.inpainting false: the shortcut is the in-painting block's`,
      });
    if (!decoderMemories) {
      const none = 'with ablation.inpainting false and no model.decoderMemory there is no memory';
      if (!ablation.spaceAware)
        problems.push({ key: 'spaceAware', message: `ablation.spaceAware false has no meaning ${none}` });
      if (ablation.addressing !== 'gumbel')
        problems.push({
          key: 'addressing',
          message: `ablation.addressing '${ablation.addressing}' has no meaning ${none}`,
        });
    }
  }
  return problems;
}

/**
 * Why `model.shrink` cannot address the memories (empty when it can): Gumbel top-k keeps k slots
 * of every memory it reads, so each needs at least k (a hard-shrinkage λ or softmax needs none).
 */
export function shrinkProblems(model: ModelConfig, ablation: AblationConfig): string[] {
  const k = model.shrink;
  if (ablation.addressing !== 'gumbel' || !Number.isInteger(k)) return [];
  const problems: string[] = [];
  const topK = `shrink ${k} (Gumbel top-k) needs at least ${k} slots in every memory`;
  if (ablation.inpainting && k > model.numSlots) problems.push(`${topK}; numSlots is ${model.numSlots}`);
  if (model.decoderMemory.some((m) => m !== null) && k > model.memNumSlots)
    problems.push(`${topK}; memNumSlots is ${model.memNumSlots}`);
  return problems;
}

const adamSchema = (eps: number, weightDecay: number) =>
  z
    .object({
      lr: z.number().positive().default(1e-4),
      betas: z.tuple([z.number().min(0).max(1), z.number().min(0).max(1)]).default([0.5, 0.999]),
      eps: z.number().positive().default(eps),
      /** L2 penalty added to the gradient (PyTorch Adam `weight_decay`). */
      weightDecay: z.number().min(0).default(weightDecay),
    })
    .prefault({});

/** The whole recipe: model, discriminator, losses, optimisers, schedule, training and data. */
export const squidConfigSchema = z
  .object({
    preset: z.string().default('custom'),
    model: modelConfigSchema.prefault({}),
    ablation: ablationSchema,
    discriminator: z
      .object({
        /** Spatial size after the five stride-2 convs; default `ceil(imageSize / 32)`. */
        size: z.number().int().positive().optional(),
      })
      .prefault({}),
    loss: z
      .object({
        recon: z.number().min(0).default(1),
        teacher: z.number().min(0).default(0.01),
        dist: z.number().min(0).default(0.001),
        g: z.number().min(0).default(0.005),
        d: z.number().min(0).default(0.005),
      })
      .prefault({}),
    optimizer: z
      .object({
        g: adamSchema(1e-7, 1e-5),
        d: adamSchema(1e-8, 0),
      })
      .prefault({}),
    /** Generator learning rate: cosine annealing per epoch (the official code never schedules D). */
    schedule: z
      .object({
        tMax: z.number().int().positive().default(300),
        minLrFactor: z.number().min(0).max(1).default(0.01),
      })
      .prefault({}),
    train: z
      .object({
        /** A generator step every `nCritic` discriminator steps. */
        nCritic: z.number().int().positive().default(1),
        batchSize: z.number().int().positive().default(16),
        epochs: z.number().int().positive().default(200),
        /** Cap on iterations per epoch (CheXpert: 84); null = the whole training set. */
        iterationsPerEpoch: z.number().int().positive().nullable().default(null),
        seed: z.number().int().default(0),
      })
      .prefault({}),
    data: z
      .object({
        dataset: z.enum(['digitanatomy', 'zhanglab', 'chexpert']).default('digitanatomy'),
        augmentation: z
          .discriminatedUnion('kind', [
            z.object({ kind: z.literal('none') }),
            /**
             * DigitAnatomy: each digit through the official loader's RandomResizedCrop (area fraction in
             * `scale`, aspect 1) before its resize to the cell. Any other kind gives whole digits.
             */
            z.object({
              kind: z.literal('random-resized-crop'),
              scale: z
                .tuple([z.number().positive(), z.number().positive()])
                .refine(([lo, hi]) => lo <= hi, 'the first bound must not exceed the second')
                .default([0.6, 1.3]),
            }),
            /** Chest X-rays: random affine translation (fraction of the size) and scale. */
            z.object({
              kind: z.literal('affine'),
              translate: z.number().min(0).default(0.05),
              scaleMin: z.number().positive().default(0.95),
              scaleMax: z.number().positive().default(1.05),
            }),
          ])
          .default({ kind: 'random-resized-crop', scale: [0.6, 1.3] }),
      })
      .prefault({}),
  })
  .superRefine((config, ctx) => {
    for (const message of structureProblems(config.model))
      ctx.addIssue({ code: 'custom', message, path: ['model'] });
    for (const { key, message } of ablationProblems(config.ablation, config.model))
      ctx.addIssue({ code: 'custom', message, path: ['ablation', key] });
    for (const message of shrinkProblems(config.model, config.ablation))
      ctx.addIssue({ code: 'custom', message, path: ['model', 'shrink'] });
    const { size } = config.discriminator;
    const expected = discriminatorSize(config.model.imageSize);
    if (size !== undefined && size !== expected) {
      ctx.addIssue({
        code: 'custom',
        path: ['discriminator', 'size'],
        message: `discriminator size ${size} does not fit image size ${config.model.imageSize} (five stride-2 convs give ${expected})`,
      });
    }
  });

export type SquidConfig = z.output<typeof squidConfigSchema>;
export type SquidConfigInput = z.input<typeof squidConfigSchema>;

/**
 * Validates a config (filling defaults); the error lists every problem with its path, including
 * keys the schema does not know (with the closest known key).
 */
export function parseSquidConfig(input: unknown, source = 'config'): SquidConfig {
  const result = squidConfigSchema.safeParse(input);
  const lines = result.success
    ? describeUnknownKeys(unknownKeys(input, result.data))
    : result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  if (!result.success || lines.length > 0)
    throw new Error(`${source}: invalid SQUID config\n${lines.join('\n')}`);
  return result.data;
}

/** Shape facts of a model configuration, derived once. */
export interface ModelGeometry {
  /** Channel width per U-Net level. */
  filters: number[];
  patchSize: number;
  numPatches: number;
  /** Spatial size per patch of the feature map at level j (j = 0..level). */
  patchSpatial: number[];
  /** Bottleneck `[h, w, C]` per patch. */
  bottleneck: { size: number; channels: number };
  /** In-painting vector size `(C/4)·h·w` (official `memory_channel`). */
  memoryChannel: number;
  /** Whether U-Net level j is stitched (whole image) in the skips and the decoder output. */
  stitched: boolean[];
}

/** Derives feature sizes of a model config (throws on a size that does not divide). */
export function modelGeometry(model: ModelConfig): ModelGeometry {
  const filters = filterList(model.featuresRoot);
  const patchSize = model.imageSize / model.numPatch;
  const patchSpatial = Array.from({ length: model.level + 1 }, (_, j) => patchSize / 2 ** j);
  const size = patchSpatial[model.level];
  const channels = filters[model.level];
  return {
    filters,
    patchSize,
    numPatches: model.numPatch ** 2,
    patchSpatial,
    bottleneck: { size, channels },
    memoryChannel: (channels / 4) * size * size,
    stitched: Array.from({ length: model.level + 1 }, (_, j) => j < model.initialCombine),
  };
}

/** Every reason this structure cannot be built (empty when it can). */
export function structureProblems(model: ModelConfig): string[] {
  const problems: string[] = [];
  const { imageSize, numPatch, level, initialCombine, ops, decoderMemory } = model;
  if (ops.length !== level) problems.push(`ops has ${ops.length} entries, level is ${level}`);
  if (decoderMemory.length !== level)
    problems.push(`decoderMemory has ${decoderMemory.length} entries, level is ${level}`);
  if (initialCombine > level) problems.push(`initialCombine ${initialCombine} exceeds level ${level}`);
  if (imageSize % numPatch !== 0) {
    problems.push(`imageSize ${imageSize} is not divisible by numPatch ${numPatch}`);
    return problems;
  }
  const patch = imageSize / numPatch;
  if (patch % 2 ** level !== 0)
    problems.push(`patch size ${patch} is not divisible by 2^level = ${2 ** level}`);
  if (problems.length > 0) return problems;
  const g = modelGeometry(model);
  if (g.bottleneck.channels % 4 !== 0)
    problems.push(`bottleneck channels ${g.bottleneck.channels} not divisible by 4`);
  if (g.memoryChannel % 8 !== 0)
    problems.push(`in-painting vector size ${g.memoryChannel} not divisible by 8 heads`);
  decoderMemory.forEach((m, j) => {
    if (!m) return;
    const stitched = g.stitched[j];
    const side = stitched ? g.patchSpatial[j] * numPatch : g.patchSpatial[j];
    const where = `decoderMemory[${j}] (${m.type})`;
    if (m.type === 'MemoryMatrixBlockV3') {
      if (stitched)
        problems.push(`${where}: level ${j} is stitched, MemoryMatrixBlockV3 needs per-patch features`);
      if (m.numMemory !== g.numPatches)
        problems.push(`${where}: numMemory ${m.numMemory} must equal numPatch² = ${g.numPatches}`);
      if (m.multiplier !== side * side)
        problems.push(`${where}: multiplier ${m.multiplier} must equal ${side}² = ${side * side}`);
    } else {
      const perSide = Math.round(Math.sqrt(m.numMemory));
      if (perSide * perSide !== m.numMemory)
        problems.push(`${where}: numMemory ${m.numMemory} is not a square`);
      else if (side % perSide !== 0)
        problems.push(`${where}: ${side}×${side} features do not split into ${perSide}×${perSide} windows`);
      else if (m.multiplier !== (side / perSide) ** 2) {
        problems.push(
          `${where}: multiplier ${m.multiplier} must equal the window size² = ${(side / perSide) ** 2}`,
        );
      }
    }
  });
  return problems;
}

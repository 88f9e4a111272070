import type { Rng, StateEntry, tf } from '@squid-ad/backend';
import { z } from 'zod';

/** The data recipes a model is trained and evaluated on (image size, data set, augmentation). */
export const PRESET_NAMES = ['digitanatomy', 'zhanglab', 'chexpert', 'tiny'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];

/** Image side of each preset's data, in pixels (DigitAnatomy: 3×3 digits of 32 px; tiny: of 16 px). */
export const PRESET_IMAGE_SIZE: Record<PresetName, number> = {
  digitanatomy: 96,
  zhanglab: 128,
  chexpert: 128,
  tiny: 48,
};

/**
 * How long and on what a model trains: the part of every model's config the run loop reads.
 * One iteration is one call of {@link ModelTrainer.step} on one batch.
 */
export const trainScheduleSchema = z.object({
  /** Seeds the initial weights and every random draw of training. */
  seed: z.number().int().default(0),
  batchSize: z.number().int().positive().default(16),
  /** Total epochs of the run (`--epochs`; a resumed run continues up to it). */
  epochs: z.number().int().positive().default(200),
  /** Iterations per epoch; null = one pass over the training set (drop-last). */
  iterationsPerEpoch: z.number().int().positive().nullable().default(null),
});
export type TrainSchedule = z.output<typeof trainScheduleSchema>;

/** What the run loop reads of a model's config: which data, at what size, how long. */
export interface RunRecipe {
  /** The preset whose data the model trains on (a SQUID config may say `custom`). */
  preset: string;
  /** Side of the square single-channel images the model takes, `[B, S, S, 1]` in [0, 1]. */
  imageSize: number;
  train: TrainSchedule;
}

/**
 * The usual model config: the recipe's fields at the top; `.extend({...})` it with the model's
 * own keys (network, losses, optimiser).
 */
export const baseConfigSchema = z.object({
  preset: z.enum(PRESET_NAMES),
  imageSize: z.number().int().positive(),
  train: trainScheduleSchema.prefault({}),
});

/** The usual shape of a model config: the recipe's fields at the top, the model's own keys beside. */
export interface BaseModelConfig extends RunRecipe {
  preset: PresetName;
}

/** {@link ModelPlugin.recipe} of a config shaped like {@link BaseModelConfig}. */
export function recipeOf(config: BaseModelConfig): RunRecipe {
  return { preset: config.preset, imageSize: config.imageSize, train: config.train };
}

/** The eval-mode outputs of a batch `[B, S, S, 1]`. */
export interface Inference {
  /** `[B, S, S, 1]`: the reconstruction shown beside the input and compared with it */
  recon: tf.Tensor4D;
  /**
   * `[B]`: the model's own score before calibration (SQUID: the discriminator logit, higher =
   * more normal; the baselines: an anomaly score, higher = more anomalous). See {@link ModelPlugin.calibrated}.
   */
  raw: tf.Tensor1D;
}

/** Where an iteration is in the run. */
export interface StepPosition {
  epoch: number;
  stepInEpoch: number;
  /** Iterations done before this one, since the start of the run. */
  iteration: number;
  /** Iterations of the whole run (epochs × iterations per epoch): for models trained in stages. */
  totalIterations: number;
}

/**
 * The optimisers of a model and its training iteration. Created by
 * {@link ModelInstance.createTrainer}; owns its optimiser state, borrows the model and the Rng.
 */
export interface ModelTrainer {
  /** Optimiser (and other training-only) state, saved in every checkpoint for an exact resume. */
  state(): StateEntry[];
  /** Sets the learning rates of epoch `epoch` (0-based) and returns them by optimiser (`{ g, d }`). */
  setEpoch(epoch: number): Record<string, number>;
  /**
   * One iteration on `images` `[B, S, S, 1]` in [0, 1] (not disposed). Returns the loss terms
   * by name (the run logs their epoch means). Throws {@link NonFiniteLossError} instead of
   * applying an update when a loss is NaN or infinite.
   */
  step(images: tf.Tensor4D, at: StepPosition): Record<string, number>;
  /** Milliseconds per phase so far (optional; the run reports them per iteration). */
  readonly timings?: Readonly<Record<string, number>>;
  dispose(): void;
}

/** A built model: its weights and how it scores. */
export interface ModelInstance {
  /** Every tensor of the model (weights, BatchNorm statistics, memories), with stable names: what a checkpoint saves. */
  state(): StateEntry[];
  /** The part of {@link state} scoring reads (what an inference bundle carries); default: all of it. */
  scoringState?(): StateEntry[];
  /**
   * Eval mode on `images` `[B, S, S, 1]` in [0, 1] (not disposed). An image's outputs must not
   * depend on the rest of the batch. The caller disposes the returned tensors.
   */
  infer(images: tf.Tensor4D): Inference;
  /** The trainer of this model; `rng` is the run's training Rng (masks, noise, sampling). */
  createTrainer(rng: Rng): ModelTrainer;
  dispose(): void;
}

/** μ and σ of the raw score over normal training images (computed by the run after each validation). */
export interface RawStats {
  mu: number;
  sigma: number;
}

/**
 * An anomaly detector squid can train, score, export and study. Adding a model means writing
 * one of these; the trainer and evaluator know models only through it.
 */
export interface ModelPlugin<C = BaseModelConfig> {
  /** `squid-train --model NAME`; also the key of the model's config in a run's config.json */
  readonly name: string;
  /** Human name with its source, e.g. `GANomaly (Akçay et al., ACCV 2018)` */
  readonly title: string;
  /** Name of the model's own anomaly score in reports, e.g. `latent-distance` */
  readonly scoreName: string;
  /** zod schema of the config (defaults filled, unknown keys refused by the caller). */
  readonly configSchema: z.ZodType<C>;
  /** The model's recipe for a preset's data (image size; the paper's or the authors' schedule). */
  presetConfig(preset: PresetName): C;
  /** Preset, image size and schedule of a config (`recipeOf` for a {@link BaseModelConfig}). */
  recipe(config: C): RunRecipe;
  /**
   * A freshly initialised model; `seed` gives the initial weights. `runOptions`: the run's
   * settings (config.json's `run`), for a model that reads some of them (SQUID: `scoreNorm`,
   * `reuseGeneratorForward`); others ignore them.
   */
  create(config: C, seed: number, runOptions?: Readonly<Record<string, unknown>>): ModelInstance;
  /**
   * The anomaly score (higher = more anomalous) from the raw score and its statistics over
   * normal training images. Default: the raw score itself (already an anomaly score).
   */
  calibrated?(raw: Float32Array, stats: RawStats): Float32Array;
  /**
   * Why a run of `config` must end at the length it was started with, for a model whose
   * schedule is planned from the run's total iterations (f-AnoGAN's two stages); undefined, or
   * no method, when a resumed run may be extended (`squid-train --resume --epochs N`).
   */
  fixedLength?(config: C): string | undefined;
}

/** A plug-in of any config type: what lists of models (`[squidModel, ...baselineModels]`) hold. */
// biome-ignore lint/suspicious/noExplicitAny: plug-ins of different config types in one list
export type AnyModelPlugin = ModelPlugin<any>;

/** A loss became NaN or ±Inf: the update was not applied. */
export class NonFiniteLossError extends Error {
  constructor(
    readonly loss: string,
    readonly value: number,
    readonly iteration: number,
  ) {
    super(
      `${loss} loss is ${value} at iteration ${iteration}; stopping (the model state before this iteration is kept)`,
    );
    this.name = 'NonFiniteLossError';
  }
}

/** Throws {@link NonFiniteLossError} for the first loss that is NaN or infinite. */
export function checkFinite(losses: Record<string, number>, iteration: number): void {
  for (const [name, value] of Object.entries(losses))
    if (!Number.isFinite(value)) throw new NonFiniteLossError(name, value, iteration);
}

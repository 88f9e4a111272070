import type { AnyModelPlugin } from '@squid-ad/model-api';
import { z } from 'zod';
import { type SquidConfig, squidConfigSchema } from '../config.js';
import { squidModel } from '../squid-plugin.js';
import { describeUnknownKeys, unknownKeys } from '../unknown-keys.js';

/** Training-run settings beyond the model recipe: validation, samples, data, scoring. */
export const runOptionsSchema = z
  .object({
    /** Validate (AUC, μ/σ, threshold) every N epochs, and always after the last one. */
    validateEvery: z.number().int().positive().default(1),
    /** Write an input / reconstruction / difference PNG grid every N epochs (and after the last). */
    sampleEvery: z.number().int().positive().default(5),
    /** Keep every N-th epoch's checkpoint as `checkpoints/epoch-NNNN` (to rescore a training curve); 0 = none. */
    keepEvery: z.number().int().min(0).default(0),
    /** Normal training images (not augmented) whose logits give μ and σ (official: ~200). */
    normImages: z.number().int().positive().default(200),
    /** One generator forward per iteration for both steps (see SquidTrainer); false = the official two. */
    reuseGeneratorForward: z.boolean().default(true),
    /** Discriminator normalisation when scoring: the official per-image batch statistics or the running ones. */
    scoreNorm: z.enum(['per-image', 'running']).default('per-image'),
    /** Cell side in pixels of the `recon-l1-worst-cell` score (validation AUCs, and `loadRun` scoring). */
    reconCell: z.number().int().positive().default(32),
    /** How the stored operating threshold is picked on the validation split. */
    threshold: z.enum(['youden', 'max-f1', 'max-accuracy']).default('youden'),
    data: z
      .object({
        /** Root of the chest data set (zhanglab, chexpert); DigitAnatomy needs none. */
        dir: z.string().nullable().default(null),
        /**
         * Fraction of abnormal images mixed into training: chest data sets draw them from the abnormal
         * training images, DigitAnatomy generates them (the four anomaly types, by the seed).
         */
        contamination: z.number().min(0).max(0.95).default(0),
        /** DigitAnatomy: freshly generated training images per data epoch (official: 32·50 = 1,600). */
        trainLength: z.number().int().positive().default(1600),
        /** DigitAnatomy validation split (generated, seed distinct from the test seeds). */
        valNormal: z.number().int().min(0).default(100),
        valAbnormal: z.number().int().min(0).default(100),
        valSeed: z.number().int().default(7001),
        /** Chest: training images carved out for validation (normal, abnormal). */
        holdoutNormal: z.number().int().min(0).default(100),
        holdoutAbnormal: z.number().int().min(0).default(100),
        /** Unreadable image files: stop naming the file (default), or skip them and list them in train.log. */
        skipBad: z.boolean().default(false),
      })
      .prefault({}),
  })
  .prefault({});
export type RunOptions = z.output<typeof runOptionsSchema>;

/** Everything a SQUID run folder's `config.json` holds: the model recipe and the run settings. */
export const runConfigSchema = z.object({
  /** Which model the run trains (a {@link ModelPlugin} name); its config is under the key of that name. */
  model: z.literal('squid').default('squid'),
  squid: squidConfigSchema,
  run: runOptionsSchema,
});
export type RunConfigInput = z.input<typeof runConfigSchema>;

/**
 * A run folder's `config.json`: `model` names the plug-in, its config sits under the key of that
 * name (`squid`, `ganomaly`, …), `run` holds the run settings every model shares.
 */
export type RunConfig = { model: string; run: RunOptions; squid?: SquidConfig } & Record<string, unknown>;

/** A SQUID run's config (`model: 'squid'`, the `squid` key present). */
export type SquidRunConfig = z.output<typeof runConfigSchema>;

/** The plug-in a run config names, from `models` (an error lists the ones there are). */
export function pluginOf(
  config: { model?: unknown },
  models: readonly AnyModelPlugin[],
  source = 'run config',
): AnyModelPlugin {
  const name = config.model ?? 'squid';
  const plugin = models.find((m) => m.name === name);
  if (!plugin)
    throw new Error(
      `${source}: unknown model ${JSON.stringify(name)}; this program knows ${models.map((m) => m.name).join(', ')}`,
    );
  return plugin;
}

/** The model's own config in a run config (the key named after the model). */
export function modelConfigOf<C = unknown>(config: RunConfig): C {
  return config[config.model] as C;
}

/**
 * Validates a run config (filling defaults) against the plug-in it names (`models`, default
 * SQUID alone); the error names `source` and every bad field, including keys the schemas do not
 * know (with the closest known key) unless `strict: false`.
 */
export function parseRunConfig(
  input: unknown,
  source: string,
  options: { strict?: boolean; models?: readonly AnyModelPlugin[] } = {},
): RunConfig {
  const obj = (input !== null && typeof input === 'object' ? input : {}) as Record<string, unknown>;
  const plugin = pluginOf(obj, options.models ?? [squidModel], source);
  const schema = z.object({
    model: z.literal(plugin.name).default(plugin.name),
    [plugin.name]: plugin.configSchema,
    run: runOptionsSchema,
  });
  const result = schema.safeParse(input);
  const lines = result.success
    ? options.strict === false
      ? []
      : describeUnknownKeys(unknownKeys(input, result.data))
    : result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
  if (!result.success || lines.length > 0)
    throw new Error(`${source}: invalid run config\n${lines.join('\n')}`);
  return result.data as RunConfig;
}

/**
 * Differences between two run configs that change what a resumed run computes, as
 * `path: old → new` lines. The epoch count is left out (`--epochs` is the total length and may
 * grow on resume), and so are `run.data.skipBad`, `run.keepEvery` and `run.sampleEvery`.
 */
export function configDifferences(a: RunConfig, b: RunConfig): string[] {
  const ignored = new Set([
    `${a.model}.train.epochs`,
    // How unreadable files are handled: a run stopped by one may continue skipping it.
    'run.data.skipBad',
    // Which checkpoints are kept on disk, and how often a sample grid is drawn, change nothing
    // that is computed.
    'run.keepEvery',
    'run.sampleEvery',
  ]);
  const out: string[] = [];
  const walk = (x: unknown, y: unknown, path: string) => {
    if (ignored.has(path)) return;
    if (x !== null && y !== null && typeof x === 'object' && typeof y === 'object') {
      const keys = new Set([...Object.keys(x), ...Object.keys(y)]);
      for (const k of keys)
        walk((x as Record<string, unknown>)[k], (y as Record<string, unknown>)[k], path ? `${path}.${k}` : k);
      return;
    }
    if (JSON.stringify(x) !== JSON.stringify(y))
      out.push(`${path}: ${JSON.stringify(x)} → ${JSON.stringify(y)}`);
  };
  walk(a, b, '');
  return out;
}

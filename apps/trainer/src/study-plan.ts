import { join, resolve } from 'node:path';
import { modelConfigOf, parseRunConfig, pluginOf, type RunConfig } from '@squid-ad/squid';
import { z } from 'zod';
import { MODELS } from './models.js';
import { deepMerge, resolveTrainConfig, trainFlagsSchema } from './resolve-config.js';
import { parseSeeds } from './sweep.js';

type Json = Record<string, unknown>;

/** One arm of a study: a name (its run folders' prefix), the model, and what it changes in the model's preset. */
export interface StudyVariant {
  name: string;
  /** the plug-in that trains it (`squid`, `ae`, …) */
  model: string;
  /** deep-merged over the resolved run config, e.g. `{ squid: { ablation: { memory: 'matrix' } } }` */
  overrides?: Json;
}

/** A kind of study: what it compares, as a list of named variants. */
export interface StudyKind {
  name: string;
  /** one line for the tables' captions */
  title: string;
  variants(): StudyVariant[];
}

/** A SQUID variant with `squid.ablation` switches (packages/squid/src/config.ts) changed. */
const ablated = (name: string, ablation: Json): StudyVariant => ({
  name,
  model: 'squid',
  overrides: { squid: { ablation } },
});

/**
 * The SQUID ablations (the paper's Table 2): the official model, then one component taken out or
 * swapped at a time, one `squid.ablation` switch each. Adding one is one line here.
 */
export const ABLATION_VARIANTS: readonly StudyVariant[] = [
  { name: 'official', model: 'squid' },
  ablated('memory-matrix', { memory: 'matrix' }),
  ablated('shared-memory', { spaceAware: false }),
  ablated('softmax', { addressing: 'softmax' }),
  ablated('no-inpainting', { inpainting: false }),
  ablated('shortcut-residual', { shortcut: 'residual' }),
  ablated('shortcut-off', { shortcut: 'off' }),
  ablated('no-teacher', { teacher: false }),
];

/**
 * The studies `squid-train study KIND` plans. A new kind (contamination, robustness) is one
 * entry: its variants are config overrides, trained and tabulated like these.
 */
export const STUDY_KINDS: readonly StudyKind[] = [
  {
    name: 'models',
    title: 'SQUID and the baselines (the paper’s Table 1)',
    variants: () => MODELS.map((m) => ({ name: m.name, model: m.name })),
  },
  {
    name: 'ablation',
    title: 'SQUID with one component taken out at a time (the paper’s Table 2)',
    variants: () => [...ABLATION_VARIANTS],
  },
];

/** The options of `squid-train study`, validated. */
export const studyFlagsSchema = z.object({
  kind: z.string(),
  preset: z.enum(['digitanatomy', 'zhanglab', 'chexpert', 'tiny']),
  seeds: z.string().default('0'),
  iterations: z.number().int().positive(),
  iterationsPerEpoch: z.number().int().positive().optional(),
  outRoot: z.string().min(1),
  /** only these variants (comma-separated names), in the kind's order */
  variants: z.string().optional(),
  data: z.string().optional(),
  config: z.string().optional(),
  /** DigitAnatomy: normal and abnormal images of the generated test split */
  testSize: z
    .object({ normal: z.number().int().positive(), abnormal: z.number().int().positive() })
    .optional(),
  checkpoint: z.enum(['best', 'last']).default('last'),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  precision: z.enum(['auto', 'float32', 'bfloat16']).optional(),
  queue: z.string().optional(),
  attempts: z.number().int().positive().default(3),
  json: z.boolean().default(false),
});
export type StudyFlags = z.output<typeof studyFlagsSchema>;

/** One run of a study: variant × seed, its folder and its fully resolved config. */
export interface StudyRun {
  /** `<variant>-seed<N>`: the folder's name under the out-root and the queue job's id */
  name: string;
  variant: string;
  model: string;
  seed: number;
  /** absolute run folder (queue workers must see it at the same path) */
  out: string;
  config: RunConfig;
}

/** What a study trains: every run, and the iteration budget they share. */
export interface StudyPlan {
  kind: string;
  title: string;
  preset: string;
  seeds: number[];
  variants: string[];
  /** iterations per run: epochs × iterationsPerEpoch */
  iterations: number;
  epochs: number;
  iterationsPerEpoch: number;
  batchSize: number;
  outRoot: string;
  runs: StudyRun[];
}

/** The kind named `name`, or an error listing the kinds there are. */
export function studyKind(name: string): StudyKind {
  const kind = STUDY_KINDS.find((k) => k.name === name);
  if (!kind)
    throw new Error(`unknown study "${name}"; choose one of ${STUDY_KINDS.map((k) => k.name).join(', ')}`);
  return kind;
}

/**
 * Iterations of one epoch by default: the preset's own (CheXpert: 84), else one data epoch of
 * generated DigitAnatomy images (1,600 / batch 16 = 100; tiny: 1,600 / 4 = 400), else 100; never
 * more than the whole budget.
 */
function defaultIterationsPerEpoch(config: RunConfig, batchSize: number, iterations: number): number {
  const own = modelConfigOf<{ train?: { iterationsPerEpoch?: number | null } }>(config).train
    ?.iterationsPerEpoch;
  const perEpoch =
    own ?? (config.run.data.dir === null ? Math.floor(config.run.data.trainLength / batchSize) : 100);
  return Math.max(1, Math.min(perEpoch, iterations));
}

/**
 * Plans a study: every variant × seed with its config, all at the same iteration budget
 * (`iterations` = epochs × iterations per epoch) and the same data stream (same preset data,
 * batch size and seed); run folders are `<out-root>/<variant>-seed<N>/`.
 */
export function planStudy(flags: StudyFlags): StudyPlan {
  const kind = studyKind(flags.kind);
  let variants = kind.variants();
  if (flags.variants) {
    const wanted = flags.variants
      .split(',')
      .map((v) => v.trim())
      .filter((v) => v !== '');
    const unknown = wanted.filter((w) => !variants.some((v) => v.name === w));
    if (unknown.length > 0)
      throw new Error(
        `--variants: ${unknown.join(', ')} not in study ${kind.name} (it has ${variants.map((v) => v.name).join(', ')})`,
      );
    variants = variants.filter((v) => wanted.includes(v.name));
  }
  if (variants.length === 0) throw new Error(`study ${kind.name}: no variants to run`);
  const seeds = parseSeeds(flags.seeds);
  const outRoot = resolve(flags.outRoot);
  const configOf = (v: StudyVariant, seed: number, perEpoch?: number, epochs?: number): RunConfig => {
    const trainFlags = trainFlagsSchema.parse({
      model: v.model,
      preset: flags.preset,
      seed,
      data: flags.data,
      config: flags.config,
      ...(perEpoch !== undefined ? { stepsPerEpoch: perEpoch, epochs } : {}),
    });
    const { config } = resolveTrainConfig({ ...trainFlags, out: outRoot });
    if (!v.overrides) return config;
    return parseRunConfig(deepMerge(config, v.overrides), `study variant ${v.name}`, { models: MODELS });
  };
  // The schedule comes from the first variant's preset; every variant must share its batch size.
  const probe = configOf(variants[0], seeds[0]);
  const batchSize = pluginOf(probe, MODELS).recipe(modelConfigOf(probe)).train.batchSize;
  const perEpoch = flags.iterationsPerEpoch ?? defaultIterationsPerEpoch(probe, batchSize, flags.iterations);
  if (flags.iterations % perEpoch !== 0)
    throw new Error(
      `--iterations ${flags.iterations} is not a whole number of epochs of ${perEpoch} iterations; ` +
        `give a multiple of ${perEpoch} or --iterations-per-epoch`,
    );
  const epochs = flags.iterations / perEpoch;
  const runs: StudyRun[] = [];
  for (const v of variants) {
    for (const seed of seeds) {
      const config = configOf(v, seed, perEpoch, epochs);
      const recipe = pluginOf(config, MODELS).recipe(modelConfigOf(config));
      if (recipe.train.batchSize !== batchSize)
        throw new Error(
          `study ${kind.name}: ${v.name} trains at batch ${recipe.train.batchSize}, ${variants[0].name} at ${batchSize}; every variant must see the same data stream`,
        );
      const name = `${v.name}-seed${seed}`;
      runs.push({ name, variant: v.name, model: v.model, seed, out: join(outRoot, name), config });
    }
  }
  return {
    kind: kind.name,
    title: kind.title,
    preset: flags.preset,
    seeds,
    variants: variants.map((v) => v.name),
    iterations: flags.iterations,
    epochs,
    iterationsPerEpoch: perEpoch,
    batchSize,
    outRoot,
    runs,
  };
}

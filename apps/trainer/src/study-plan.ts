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

/** The contamination fractions of the paper's Figure 10: 0 to 50 % abnormal training images. */
export const CONTAMINATION_FRACTIONS: readonly number[] = [0, 0.1, 0.2, 0.3, 0.4, 0.5];

/**
 * SQUID trained on data with a fraction of abnormal images (the paper's Figure 10), clean first:
 * `run.data.contamination` (DigitAnatomy: generated anomalies of the four types; chest: abnormal
 * training images). `contamination-10` is 10 %.
 */
export const CONTAMINATION_VARIANTS: readonly StudyVariant[] = CONTAMINATION_FRACTIONS.map((f) => ({
  name: `contamination-${Math.round(f * 100)}`,
  model: 'squid',
  overrides: { run: { data: { contamination: f } } },
}));

/** A SQUID variant with one `squid.model` hyper-parameter set to `value`. */
const tuned = (name: string, key: 'numSlots' | 'shrink' | 'ratio', value: number): StudyVariant => ({
  name,
  model: 'squid',
  overrides: { squid: { model: { [key]: value } } },
});

/**
 * SQUID's hyper-parameters varied one at a time around the official values (the paper's Figure 9;
 * its grids are not in our reference, so these are ours, see the trainer README): the in-painting
 * memory queue's slots (official 200), the Gumbel shrinkage top-k (official 5) and the mask ratio,
 * the training keep-probability of the in-painted value (official 0.95). `official` is the
 * preset's own values (tiny: 16 slots); each other variant sets its one key to the value it names.
 */
export const ROBUSTNESS_VARIANTS: readonly StudyVariant[] = [
  { name: 'official', model: 'squid' },
  ...[50, 100, 400].map((n) => tuned(`slots-${n}`, 'numSlots', n)),
  ...[1, 3, 10].map((k) => tuned(`topk-${k}`, 'shrink', k)),
  ...[0.5, 0.75, 1].map((r) => tuned(`mask-${r}`, 'ratio', r)),
];

/**
 * The studies `squid-train study KIND` plans. A new kind is one entry: its variants are config
 * overrides, trained and tabulated like these.
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
  {
    name: 'contamination',
    title: 'SQUID trained with 0–50 % abnormal images in the training set (the paper’s Figure 10)',
    variants: () => [...CONTAMINATION_VARIANTS],
  },
  {
    name: 'robustness',
    title:
      'SQUID with one hyper-parameter changed at a time: queue slots, top-k, mask ratio (the paper’s Figure 9)',
    variants: () => [...ROBUSTNESS_VARIANTS],
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
    try {
      return parseRunConfig(deepMerge(config, v.overrides), `study variant ${v.name}`, { models: MODELS });
    } catch (err) {
      // The schema's reasons on one line: a variant this preset (or --config) cannot build.
      const why = (err as Error).message
        .split('\n')
        .slice(1)
        .map((l) => l.trim());
      throw new Error(
        `study ${kind.name}: variant ${v.name} cannot run on preset ${flags.preset}${flags.config ? ` with --config ${flags.config}` : ''}: ${why.join('; ')}; leave it out with --variants`,
      );
    }
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

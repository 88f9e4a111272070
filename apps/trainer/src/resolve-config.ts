import { existsSync, readFileSync } from 'node:fs';
import {
  type PresetName,
  parseRunConfig,
  pluginOf,
  type RunConfig,
  readRunConfig,
  runPaths,
} from '@squid-ad/squid';
import { z } from 'zod';
import { MODELS } from './models.js';

/** The command-line options of `squid-train`, validated. */
export const trainFlagsSchema = z.object({
  /** the model to train (`squid`, or a baseline: `ae`, `ganomaly`, …); default squid, or the run's own */
  model: z.string().optional(),
  preset: z.enum(['digitanatomy', 'zhanglab', 'chexpert', 'tiny']).optional(),
  data: z.string().optional(),
  out: z.string().optional(),
  epochs: z.number().int().positive().optional(),
  batchSize: z.number().int().positive().optional(),
  stepsPerEpoch: z.number().int().positive().optional(),
  backend: z.enum(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu']).default('auto'),
  precision: z.enum(['auto', 'float32', 'bfloat16']).optional(),
  seed: z.number().int().optional(),
  config: z.string().optional(),
  resume: z.boolean().default(false),
  force: z.boolean().default(false),
  /** a host the user checked is gone: its trainer's train.lock in --out is taken over */
  breakLock: z.string().min(1).optional(),
  contamination: z.number().min(0).max(0.95).optional(),
  skipBad: z.boolean().default(false),
  validateEvery: z.number().int().positive().optional(),
  sampleEvery: z.number().int().positive().optional(),
  keepEvery: z.number().int().min(0).optional(),
  /** wall-clock minutes after which the run checkpoints and stops (once an epoch has finished) */
  maxMinutes: z.number().positive().optional(),
  json: z.boolean().default(false),
});
export type TrainFlags = z.output<typeof trainFlagsSchema>;

type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Deep merge of JSON objects (arrays and scalars of `over` replace those of `base`). */
export function deepMerge(base: Json, over: Json): Json {
  const out: Json = { ...base };
  for (const [k, v] of Object.entries(over))
    out[k] = isObject(v) && isObject(out[k]) ? deepMerge(out[k] as Json, v) : v;
  return out;
}

function readJson(path: string): Json {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new Error(`--config ${path}: cannot read (${(err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`--config ${path}: not valid JSON (${(err as Error).message})`);
  }
  if (!isObject(json))
    throw new Error(`--config ${path}: expected a JSON object like {"squid": {...}, "run": {...}}`);
  return json;
}

/**
 * The fully resolved run config: the base (preset, or the run's own config.json when resuming
 * without --preset), then `--config FILE` (a partial `{squid, run}` object), then the flags.
 */
export function resolveTrainConfig(flags: TrainFlags): { config: RunConfig; out: string } {
  const resumingDir = flags.resume ? flags.out : undefined;
  if (flags.resume && !flags.out) throw new Error('--resume needs --out RUN_DIR (the run to continue)');
  const file = flags.config ? readJson(flags.config) : undefined;
  const resumed =
    resumingDir && existsSync(runPaths(resumingDir).config) ? readRunConfig(resumingDir, MODELS) : undefined;
  // The model: --model, else the --config file's, else the resumed run's, else SQUID.
  const plugin = pluginOf(
    { model: flags.model ?? file?.model ?? resumed?.model ?? 'squid' },
    MODELS,
    flags.model ? '--model' : flags.config ? `--config ${flags.config}` : 'squid-train options',
  );
  const key = plugin.name;
  let base: Json;
  if (flags.preset) {
    base = { model: key, [key]: plugin.presetConfig(flags.preset as PresetName) };
  } else if (resumed) {
    base = resumed as unknown as Json;
  } else if (resumingDir && !flags.config) {
    throw new Error(
      `cannot resume: ${resumingDir} is not a run folder (no config.json); check --out, or start a new run with --preset`,
    );
  } else if (file) {
    const preset = isObject(file[key]) ? file[key].preset : undefined;
    base =
      typeof preset === 'string' && preset !== 'custom'
        ? { model: key, [key]: plugin.presetConfig(preset as PresetName) }
        : { model: key };
  } else {
    throw new Error(
      'choose a --preset (digitanatomy, zhanglab, chexpert), a --config FILE, or --resume --out RUN_DIR',
    );
  }
  let merged = file ? deepMerge(base, file) : base;
  const model: Json = {};
  const train: Json = {};
  if (flags.epochs !== undefined) train.epochs = flags.epochs;
  if (flags.batchSize !== undefined) train.batchSize = flags.batchSize;
  if (flags.stepsPerEpoch !== undefined) train.iterationsPerEpoch = flags.stepsPerEpoch;
  if (flags.seed !== undefined) train.seed = flags.seed;
  if (Object.keys(train).length) model.train = train;
  const run: Json = {};
  const data: Json = {};
  if (flags.data !== undefined) data.dir = flags.data;
  if (flags.contamination !== undefined) data.contamination = flags.contamination;
  if (flags.skipBad) data.skipBad = true;
  if (Object.keys(data).length) run.data = data;
  if (flags.validateEvery !== undefined) run.validateEvery = flags.validateEvery;
  if (flags.sampleEvery !== undefined) run.sampleEvery = flags.sampleEvery;
  if (flags.keepEvery !== undefined) run.keepEvery = flags.keepEvery;
  merged = deepMerge(merged, { [key]: model, run });
  if (resumed && merged.model !== key)
    throw new Error(`cannot resume: ${resumingDir} trains ${String(resumed.model)}, not --model ${key}`);
  const config = parseRunConfig(merged, flags.config ? `--config ${flags.config}` : 'squid-train options', {
    models: MODELS,
  });
  const { preset } = plugin.recipe(config[key]);
  const out = flags.out ?? (key === 'squid' ? `runs/${preset}` : `runs/${key}-${preset}`);
  return { config, out };
}

import { join, resolve } from 'node:path';
import type { RunConfig } from '@squid-ad/squid';
import { pluginOf } from '@squid-ad/squid';
import { z } from 'zod';
import { MODELS } from './models.js';
import { resolveTrainConfig, type TrainFlags, trainFlagsSchema } from './resolve-config.js';

/** The kind of queue `squid-train sweep` posts and `squid-train worker` serves. */
export const TRAIN_KIND = 'train';

/** `0-4`, `0,2,5` or `0-2,7` → the integers, in order, without repeats. */
export function parseSeeds(text: string): number[] {
  const out: number[] = [];
  for (const part of text.split(',').map((p) => p.trim())) {
    const m = /^(-?\d+)(?:-(-?\d+))?$/.exec(part);
    if (!m) throw new Error(`--seeds "${text}": "${part}" is not a seed or a range like 0-4`);
    const a = Number(m[1]);
    const b = m[2] === undefined ? a : Number(m[2]);
    if (b < a) throw new Error(`--seeds "${text}": range ${part} runs backwards`);
    if (b - a > 10_000) throw new Error(`--seeds "${text}": range ${part} is too long`);
    for (let s = a; s <= b; s++) if (!out.includes(s)) out.push(s);
  }
  return out;
}

/** `0,0.05,0.1` → the numbers. */
export function parseNumberList(flag: string, text: string): number[] {
  return text.split(',').map((p) => {
    const n = Number(p.trim());
    if (p.trim() === '' || !Number.isFinite(n)) throw new Error(`${flag} "${text}": "${p}" is not a number`);
    return n;
  });
}

/** The options of `squid-train sweep`, validated. */
export const sweepFlagsSchema = trainFlagsSchema
  .omit({
    out: true,
    resume: true,
    force: true,
    breakLock: true,
    seed: true,
    contamination: true,
    backend: true,
  })
  .extend({
    queue: z.string().optional(),
    seeds: z.string().default('0'),
    contamination: z.string().optional(),
    outRoot: z.string().min(1),
    attempts: z.number().int().positive().default(3),
    wait: z.boolean().default(false),
  });
export type SweepFlags = z.output<typeof sweepFlagsSchema>;

/** One training job: its run folder (absolute: workers must see it there) and its resolved config. */
export interface TrainJob {
  name: string;
  out: string;
  config: RunConfig;
}

/** The queue's shared meta. */
export interface SweepMeta {
  outRoot: string;
  runs: string[];
}

/**
 * One job per seed × contamination, named `<preset>-seed<N>[-c<f>]` and trained into
 * `<out-root>/<name>/`; each config is resolved here (preset, --config file, flags), so workers
 * need neither the flags nor the file.
 */
export function sweepJobs(flags: SweepFlags): TrainJob[] {
  const seeds = parseSeeds(flags.seeds);
  const contaminations = flags.contamination
    ? parseNumberList('--contamination', flags.contamination)
    : [undefined];
  const outRoot = resolve(flags.outRoot);
  const { queue: _q, seeds: _s, contamination: _c, outRoot: _o, attempts: _a, wait: _w, ...train } = flags;
  const jobs: TrainJob[] = [];
  for (const c of contaminations) {
    for (const seed of seeds) {
      const trainFlags: TrainFlags = trainFlagsSchema.parse({ ...train, seed, contamination: c });
      const probe = resolveTrainConfig({ ...trainFlags, out: outRoot });
      const model = probe.config.model;
      const { preset } = pluginOf(probe.config, MODELS).recipe(probe.config[model]);
      const name = `${model === 'squid' ? '' : `${model}-`}${preset}-seed${seed}${c === undefined ? '' : `-c${c}`}`;
      const out = join(outRoot, name);
      jobs.push({ name, out, config: resolveTrainConfig({ ...trainFlags, out }).config });
    }
  }
  return jobs;
}

import {
  closeSync,
  existsSync,
  fstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
} from 'node:fs';
import { join } from 'node:path';
import { appendFileWholeSync, writeFileAtomicSync } from '@squid-ad/backend';
import type { AnyModelPlugin } from '@squid-ad/model-api';
import { parseRunConfig, type RunConfig } from './train/run-config.js';

/** Which checkpoint of a run: the latest, the best validated, or one kept after epoch N (`run.keepEvery`). */
export type CheckpointName = 'last' | 'best' | `epoch-${number}`;

/** The name of the checkpoint kept after `epoch` epochs: `epoch-0010`. */
export function epochCheckpointName(epoch: number): `epoch-${number}` {
  return `epoch-${String(epoch).padStart(4, '0')}` as `epoch-${number}`;
}

/** Whether `name` names a checkpoint (`last`, `best`, `epoch-N`); what a CLI accepts. */
export function isCheckpointName(name: string): name is CheckpointName {
  return name === 'last' || name === 'best' || /^epoch-\d+$/.test(name);
}

/** The kept epoch checkpoints of a run folder, oldest first (`epoch-0005`, `epoch-0010`, …). */
export function keptCheckpoints(dir: string): `epoch-${number}`[] {
  const folder = runPaths(dir).checkpoints;
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .map((f) => /^(epoch-\d+)\.safetensors$/.exec(f)?.[1])
    .filter((n): n is `epoch-${number}` => n !== undefined)
    .sort((a, b) => Number(a.slice(6)) - Number(b.slice(6)));
}

/** The files of a run folder. */
export interface RunPaths {
  dir: string;
  /** fully resolved run config */
  config: string;
  checkpoints: string;
  /** one JSON object per epoch */
  metrics: string;
  /** PNG grids: input / reconstruction / difference */
  samples: string;
  /** human-readable log */
  log: string;
  checkpoint(name: CheckpointName): string;
}

/** Paths inside a run folder (nothing is created). */
export function runPaths(dir: string): RunPaths {
  const checkpoints = join(dir, 'checkpoints');
  return {
    dir,
    config: join(dir, 'config.json'),
    checkpoints,
    metrics: join(dir, 'metrics.jsonl'),
    samples: join(dir, 'samples'),
    log: join(dir, 'train.log'),
    checkpoint: (name) => join(checkpoints, `${name}.safetensors`),
  };
}

/** Creates the folder structure of a run. */
export function createRunFolder(dir: string): RunPaths {
  const p = runPaths(dir);
  mkdirSync(p.checkpoints, { recursive: true });
  mkdirSync(p.samples, { recursive: true });
  return p;
}

/** Reads a run's `config.json`; errors name the file. */
export function readRunConfig(dir: string, models?: readonly AnyModelPlugin[]): RunConfig {
  const path = runPaths(dir).config;
  if (!existsSync(path)) throw new Error(`${dir} is not a squid run folder (no config.json)`);
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  // Our own file: a key a later version dropped must not make an old run unreadable.
  return parseRunConfig(json, path, { strict: false, ...(models ? { models } : {}) });
}

/** Appends one JSON line to `metrics.jsonl`, whole or not at all (a failure is a `WriteError`). */
export function appendMetrics(paths: RunPaths, record: object): void {
  // A kill during an earlier append can leave a cut last line: start on a fresh line, or this
  // record would merge with it and be skipped by readMetrics.
  appendFileWholeSync(paths.metrics, `${endsMidLine(paths.metrics) ? '\n' : ''}${JSON.stringify(record)}\n`);
}

/**
 * Makes `metrics.jsonl` agree with a checkpoint after `epochs` finished epochs: keeps the first
 * row of each epoch 1..`epochs` and drops rows past it (an epoch whose checkpoint was never
 * written is trained again and recorded again) and cut lines. Rewrites the file (atomically) only
 * when that changes it. Returns the epochs up to `epochs` that have no row.
 */
export function trimMetrics(paths: RunPaths, epochs: number): number[] {
  if (!existsSync(paths.metrics)) return Array.from({ length: epochs }, (_, i) => i + 1);
  const text = readFileSync(paths.metrics, 'utf8');
  const kept: string[] = [];
  const seen = new Set<number>();
  for (const line of text.split('\n')) {
    let epoch: unknown;
    try {
      epoch = (JSON.parse(line) as { epoch?: unknown }).epoch;
    } catch {
      continue;
    }
    if (typeof epoch !== 'number' || epoch > epochs || seen.has(epoch)) continue;
    seen.add(epoch);
    kept.push(`${line}\n`);
  }
  const trimmed = kept.join('');
  if (trimmed !== text) writeFileAtomicSync(paths.metrics, trimmed);
  return Array.from({ length: epochs }, (_, i) => i + 1).filter((e) => !seen.has(e));
}

/** Whether the file exists, is not empty and does not end with a newline. */
function endsMidLine(path: string): boolean {
  if (!existsSync(path)) return false;
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return false;
    const last = Buffer.alloc(1);
    readSync(fd, last, 0, 1, size - 1);
    return last[0] !== 0x0a;
  } finally {
    closeSync(fd);
  }
}

/** Reads every line of `metrics.jsonl` (an interrupted last line is skipped). */
export function readMetrics(dir: string): Record<string, unknown>[] {
  const path = runPaths(dir).metrics;
  if (!existsSync(path)) return [];
  const out: Record<string, unknown>[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (!line.trim()) continue;
    try {
      out.push(JSON.parse(line));
    } catch {}
  }
  return out;
}

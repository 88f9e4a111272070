import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { InvalidArgumentError, Option } from 'commander';

/** A run's checkpoint by name: `best`, `last`, or `epoch-N` (kept by `squid-train --keep-every`). */
export type CheckpointChoice = 'best' | 'last' | `epoch-${number}`;

/** The `--checkpoint` option of the commands that load a run (checked without loading TensorFlow.js). */
export function checkpointOption(): Option {
  return new Option(
    '--checkpoint <which>',
    'checkpoint: best, last, or epoch-N (kept by squid-train --keep-every); default: best, else last',
  ).argParser((v): CheckpointChoice => {
    if (v === 'best' || v === 'last' || /^epoch-\d+$/.test(v)) return v as CheckpointChoice;
    throw new InvalidArgumentError('must be best, last or epoch-N (e.g. epoch-0010)');
  });
}

/** A run's checkpoint as scoring will use it, identified without loading TensorFlow.js. */
export interface RunCheckpoint {
  /** absolute run folder */
  runDir: string;
  name: CheckpointChoice;
  path: string;
  /** SHA-256 of its tensor data, from its header (changes whenever the weights do) */
  sha256: string;
}

/**
 * Which checkpoint `loadRun` would open (`which`, else best, else last) and its checksum, read
 * from the safetensors header only. Errors name the run folder and what is missing, in the words
 * a worker on another machine needs (the folder must be at the same path there).
 */
export function runCheckpoint(runDir: string, which?: CheckpointChoice): RunCheckpoint {
  const abs = resolve(runDir);
  if (!existsSync(join(abs, 'config.json')))
    throw new Error(
      existsSync(abs)
        ? `${abs} is not a squid run folder (no config.json)`
        : `run folder ${abs} does not exist on this machine`,
    );
  const path = (n: string) => join(abs, 'checkpoints', `${n}.safetensors`);
  const name = which ?? (existsSync(path('best')) ? 'best' : 'last');
  if (!existsSync(path(name))) throw new Error(`${abs}: no ${name} checkpoint (${path(name)})`);
  let header: { __metadata__?: Record<string, string> };
  const fd = openSync(path(name), 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    if (n <= 0 || n > 100_000_000) throw new Error('bad header length');
    const bytes = Buffer.alloc(n);
    readSync(fd, bytes, 0, n, 8);
    header = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new Error(`checkpoint ${path(name)}: cannot read its header (${(err as Error).message})`);
  } finally {
    closeSync(fd);
  }
  const sha256 = header.__metadata__?.['squid.sha256'];
  if (!sha256)
    throw new Error(`checkpoint ${path(name)}: no checksum in its header (written by an old squid?)`);
  return { runDir: abs, name, path: path(name), sha256 };
}

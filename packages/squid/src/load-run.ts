import { existsSync } from 'node:fs';
import { prefixState, Rng, type tf } from '@squid-ad/backend';
import { type CheckpointFile, readCheckpoint, restoreState } from './checkpoint.js';
import type { SquidConfig } from './config.js';
import { createSquidModel } from './model.js';
import { type CheckpointName, readRunConfig, runPaths } from './run-folder.js';
import { type NormStats, type RunScores, type ScoreNorm, scorer } from './score.js';
import type { RunConfig } from './train/run-config.js';
import type { CheckpointMeta } from './train/train-squid.js';

export type { RunScores } from './score.js';

/** A trained run, ready to score images. */
export interface SquidRun {
  /** The model recipe (has the image size: `config.model.imageSize`). */
  config: SquidConfig;
  /** The run's whole config.json. */
  runConfig: RunConfig;
  /** Which checkpoint was loaded, and its metadata. */
  checkpoint: { name: CheckpointName; path: string; epoch: number; iteration: number; auc: number | null };
  norm: NormStats;
  /** How the discriminator normalises while scoring. */
  scoreNorm: ScoreNorm;
  /** Operating threshold picked on the validation split during training, if any. */
  threshold?: number;
  /** Cell side of `recon-l1-worst-cell` unless `score` is given another (`run.reconCell`). */
  reconCell: number;
  /**
   * Anomaly score A = 1 − sigmoid((d − μ)/σ) per image (1 = anomalous), plus the reconstructions
   * (`[S·S]` each) and their errors `recon-l1` / `recon-l1-worst-cell` (higher = more anomalous).
   * `images`: `[B, S, S, 1]` in [0, 1]. An image's scores do not depend on the rest of the batch.
   */
  score(images: tf.Tensor4D, options?: { reconCell?: number }): Promise<RunScores>;
  dispose(): void;
}

/** A run's checkpoint to score with, read and checked: it holds the score normalisation. */
export interface ScoringCheckpoint {
  runConfig: RunConfig;
  name: CheckpointName;
  path: string;
  file: CheckpointFile<CheckpointMeta>;
  meta: CheckpointMeta & { norm: NormStats };
}

/**
 * Reads the checkpoint of a run folder that scoring uses (default: best, else last); errors name
 * the file. Shared by {@link loadRun} and the bundle export.
 */
export function readScoringCheckpoint(runDir: string, checkpoint?: CheckpointName): ScoringCheckpoint {
  const runConfig = readRunConfig(runDir);
  const paths = runPaths(runDir);
  let name: CheckpointName = checkpoint ?? 'best';
  if (!checkpoint && !existsSync(paths.checkpoint('best'))) name = 'last';
  const path = paths.checkpoint(name);
  if (!existsSync(path)) throw new Error(`${runDir}: no ${name} checkpoint (${path})`);
  const file = readCheckpoint<CheckpointMeta>(path);
  const { meta } = file;
  if (meta.format !== 'squid-checkpoint') throw new Error(`${path}: not a squid checkpoint`);
  if (!meta.norm) throw new Error(`${path}: no score normalisation (μ, σ) stored; the run never validated`);
  return { runConfig, name, path, file, meta: { ...meta, norm: meta.norm } };
}

/** Loads a run folder written by `trainSquid` / `squid-train` (default: the best checkpoint, else last). */
export async function loadRun(runDir: string, opts: { checkpoint?: CheckpointName } = {}): Promise<SquidRun> {
  const { runConfig, name, path, file, meta } = readScoringCheckpoint(runDir, opts.checkpoint);
  const config = runConfig.squid;
  const model = createSquidModel(config, Rng.fromSeed(config.train.seed));
  try {
    restoreState(path, file.tensors, [
      ...prefixState('generator', model.generator.state()),
      ...prefixState('discriminator', model.discriminator.state()),
    ]);
  } catch (err) {
    model.dispose();
    throw err;
  }
  const norm = meta.norm;
  const scoreNorm = runConfig.run.scoreNorm;
  const reconCell = runConfig.run.reconCell;
  return {
    config,
    runConfig,
    checkpoint: { name, path, epoch: meta.epoch, iteration: meta.iteration, auc: meta.auc },
    norm,
    scoreNorm,
    ...(meta.threshold !== null ? { threshold: meta.threshold } : {}),
    reconCell,
    score: scorer(model, { imageSize: config.model.imageSize, norm, scoreNorm, reconCell }),
    dispose() {
      model.dispose();
    },
  };
}

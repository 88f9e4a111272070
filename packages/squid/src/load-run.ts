import { existsSync } from 'node:fs';
import { markConstant, type tf } from '@squid-ad/backend';
import type { AnyModelPlugin } from '@squid-ad/model-api';
import { type CheckpointFile, readCheckpoint, restoreState } from './checkpoint.js';
import { type CheckpointName, readRunConfig, runPaths } from './run-folder.js';
import { type NormStats, type RunScores, type ScoreNorm, scorer } from './score.js';
import { squidModel } from './squid-plugin.js';
import { modelConfigOf, pluginOf, type RunConfig } from './train/run-config.js';
import type { CheckpointMeta } from './train/train-run.js';
import { dataRecipeOf } from './train/training-data.js';

export type { RunScores } from './score.js';

/** A trained run, ready to score images. */
export interface SquidRun {
  /** The plug-in of the run's model (`squid`, `ganomaly`, …): its name, title and score name. */
  model: Pick<AnyModelPlugin, 'name' | 'title' | 'scoreName'>;
  /** The model's config (the run config's key of the model's name; SQUID: a SquidConfig). */
  config: unknown;
  /** Image side the model scores, in pixels. */
  imageSize: number;
  /** The data set the model was trained on (`digitanatomy`, `zhanglab`, `chexpert`) and its seed. */
  data: { dataset: string; seed: number };
  /** The run's whole config.json. */
  runConfig: RunConfig;
  /** Which checkpoint was loaded, and its metadata. */
  checkpoint: { name: CheckpointName; path: string; epoch: number; iteration: number; auc: number | null };
  /** μ, σ of the raw score over normal training images (SQUID's score normalisation). */
  norm: NormStats;
  /** How SQUID's discriminator normalises while scoring (`run.scoreNorm`). */
  scoreNorm: ScoreNorm;
  /** Operating threshold picked on the validation split during training, if any. */
  threshold?: number;
  /** Cell side of `recon-l1-worst-cell` unless `score` is given another (`run.reconCell`). */
  reconCell: number;
  /**
   * The model's anomaly score per image (higher = anomalous; SQUID: A = 1 − sigmoid((d − μ)/σ)),
   * the raw score, the reconstructions (`[S·S]` each) and their errors `recon-l1` /
   * `recon-l1-worst-cell`. `images`: `[B, S, S, 1]` in [0, 1]. An image's scores do not depend
   * on the rest of the batch.
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
export function readScoringCheckpoint(
  runDir: string,
  checkpoint?: CheckpointName,
  models: readonly AnyModelPlugin[] = [squidModel],
): ScoringCheckpoint {
  const runConfig = readRunConfig(runDir, models);
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

/**
 * Loads a run folder written by `trainRun` / `squid-train` (default: the best checkpoint, else
 * last). `models`: the plug-ins the run may name (default SQUID alone).
 */
export async function loadRun(
  runDir: string,
  opts: { checkpoint?: CheckpointName; models?: readonly AnyModelPlugin[] } = {},
): Promise<SquidRun> {
  const models = opts.models ?? [squidModel];
  const { runConfig, name, path, file, meta } = readScoringCheckpoint(runDir, opts.checkpoint, models);
  const plugin = pluginOf(runConfig, models, runPaths(runDir).config);
  const config = modelConfigOf(runConfig);
  const recipe = plugin.recipe(config);
  const model = plugin.create(config, recipe.train.seed, runConfig.run);
  const state = model.scoringState?.() ?? model.state();
  try {
    restoreState(path, file.tensors, state);
  } catch (err) {
    model.dispose();
    throw err;
  }
  // A loaded run only scores: its weights stay as restored, so bf16 kernels may convert them once.
  markConstant(state.map((e) => e.variable));
  const norm = meta.norm;
  const reconCell = runConfig.run.reconCell;
  return {
    model: { name: plugin.name, title: plugin.title, scoreName: plugin.scoreName },
    config,
    imageSize: recipe.imageSize,
    data: { dataset: dataRecipeOf(plugin, config).dataset, seed: recipe.train.seed },
    runConfig,
    checkpoint: { name, path, epoch: meta.epoch, iteration: meta.iteration, auc: meta.auc },
    norm,
    scoreNorm: runConfig.run.scoreNorm,
    ...(meta.threshold !== null ? { threshold: meta.threshold } : {}),
    reconCell,
    score: scorer(model, plugin, { imageSize: recipe.imageSize, norm, reconCell }),
    dispose() {
      model.dispose();
    },
  };
}

import { existsSync } from 'node:fs';
import {
  appendFileWholeSync,
  backendReport,
  Rng,
  type RngState,
  type StateEntry,
  WriteError,
  writeFileAtomicSync,
} from '@squid-ad/backend';
import { BadImageError, type Position } from '@squid-ad/datasets';
import {
  type AnyModelPlugin,
  type ModelInstance,
  type ModelTrainer,
  NonFiniteLossError,
} from '@squid-ad/model-api';
import {
  copyCheckpoint,
  readCheckpoint,
  readCheckpointMeta,
  removePartials,
  restoreState,
  saveCheckpoint,
} from '../checkpoint.js';
import {
  appendMetrics,
  type CheckpointName,
  createRunFolder,
  epochCheckpointName,
  type RunPaths,
  readRunConfig,
  runPaths,
  trimMetrics,
} from '../run-folder.js';
import { RunLock, RunLockedError } from '../run-lock.js';
import type { NormStats } from '../score.js';
import { squidModel } from '../squid-plugin.js';
import { configDifferences, modelConfigOf, pluginOf, type RunConfig } from './run-config.js';
import { writeSampleGrid } from './sample-grid.js';
import { testStopPoint } from './test-stop-point.js';
import { type TrainingData, trainingData } from './training-data.js';
import { type ImageSet, labelledImageSet, normImageSet, type Validation, validate } from './validate.js';

/** Metadata stored in every checkpoint: where training stands, and what scoring needs. */
export interface CheckpointMeta {
  format: 'squid-checkpoint';
  version: 1;
  /** Epochs fully done; with `stepInEpoch > 0` the checkpoint is mid-epoch `epoch`. */
  epoch: number;
  stepInEpoch: number;
  /** Iterations done since the start of the run. */
  iteration: number;
  /** Next batch of the data stream. */
  dataPosition: Position;
  /** Training Rng state (SQUID's masks, the baselines' noise). */
  rng: RngState;
  /** μ, σ of the raw score over normal training images (SQUID's score normalisation); null before the first validation. */
  norm: NormStats | null;
  threshold: number | null;
  /** Validation AUC of this checkpoint's weights (when validated). */
  auc: number | null;
  bestAuc: number | null;
  backend: string;
  savedAt: string;
}

/** Progress of the running iteration (for progress bars and logs). */
export interface TrainProgress {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  iteration: number;
  /** the iteration's loss terms by name (SQUID: `d`, and `g`, `recon`, … on generator steps) */
  losses: Record<string, number>;
  imagesPerSecond: number;
  /** Seconds left for the whole run at the current speed (validation excluded). */
  etaSeconds: number;
}

/** One line of `metrics.jsonl`. */
export interface EpochMetrics {
  epoch: number;
  iteration: number;
  /** learning rate per optimiser (SQUID: `g`, `d`) */
  lr: Record<string, number>;
  /** Loss terms: each the mean over the epoch's iterations that computed it. */
  loss: Record<string, number | null>;
  val: {
    /** AUC of the model's own score (picks the best checkpoint) */
    auc: number | null;
    threshold: number | null;
    /** AUC of every score (the model's own, recon-l1, recon-l1-worst-cell), overall and per anomaly type */
    scores: Validation['scores'];
    count: number;
    seconds: number;
  } | null;
  norm: NormStats | null;
  seconds: number;
  imagesPerSecond: number;
  /** ms per iteration and phase (`data`, and the model trainer's phases) */
  timings: Record<string, number>;
}

export interface TrainOptions {
  runDir: string;
  config: RunConfig;
  /** Continue from `checkpoints/last` of `runDir`. */
  resume?: boolean;
  /** Resume even when the config differs from the run's `config.json`. */
  force?: boolean;
  /** A host the user has checked is gone: its trainer's `train.lock` is taken over (`--break-lock HOST`). */
  breakLock?: string;
  /** The models a run config may name (default: SQUID alone); the config's `model` picks one. */
  models?: readonly AnyModelPlugin[];
  /** Injected data (tests); default: built from the config. */
  data?: TrainingData;
  /** Polled between iterations: when true, checkpoint and return `interrupted`. */
  shouldStop?: () => boolean;
  onProgress?: (p: TrainProgress) => void;
  onEpoch?: (m: EpochMetrics) => void;
  /** Receives every log line (also written to `train.log`). */
  log?: (line: string) => void;
}

export interface TrainResult {
  status: 'completed' | 'interrupted' | 'non-finite';
  epoch: number;
  iteration: number;
  bestAuc: number | null;
  lastAuc: number | null;
  runDir: string;
  message?: string;
}

/** The run folder has no checkpoint to resume from, or resuming would change the recipe. */
export class RunFolderError extends Error {
  override name = 'RunFolderError';
}

/** Every tensor a checkpoint holds: the model's (SQUID: official names) and the optimisers'. */
function checkpointEntries(model: ModelInstance, trainer: ModelTrainer): StateEntry[] {
  return [...model.state(), ...trainer.state()];
}

/**
 * Trains the model a run config names (SQUID by default: reference §4 schedule) into a run
 * folder, checkpointing `last` after every epoch and `best` on a new best validation AUC of the
 * model's own score; exact resume from `last`.
 */
export async function trainRun(options: TrainOptions): Promise<TrainResult> {
  // Everything that can be refused is checked before anything is created on disk: the run
  // folder's state, then the data (a missing --data, an unreadable folder).
  checkRunFolder(options);
  // Skipped files (run.data.skipBad) go to train.log; the folder exists by the time one is read.
  const models = options.models ?? [squidModel];
  const plugin = pluginOf(options.config, models);
  const data =
    options.data ?? (await trainingData(options.config, runLog(options.runDir, options.log), models));
  // One writer per run folder: a second trainer on the same folder is refused before it writes.
  let lock: RunLock;
  try {
    lock = RunLock.acquire(options.runDir, { breakLock: options.breakLock });
  } catch (err) {
    if (err instanceof RunLockedError) throw new RunFolderError(err.message);
    throw err;
  }
  const was = lock.tookOver;
  if (was) {
    const from = `pid ${was.pid} on ${was.host} (since ${was.startedAt})`;
    runLog(options.runDir, options.log)(`took over ${lock.path} from ${from}: --break-lock ${was.host}`);
  }
  try {
    // Again under the lock: another trainer may have finished a run here since the first check.
    checkRunFolder(options);
    return await trainUnlocked({ ...options, data, plugin });
  } catch (err) {
    if (err instanceof RunFolderError) throw err;
    const last = lastGoodCheckpoint(options.runDir);
    // A file of the run that could not be written: the line names it, the free space, and how
    // to go on from the last checkpoint (the stop leaves checkpoint and metrics.jsonl agreeing).
    const stopped =
      err instanceof WriteError
        ? err.withRemedy(
            `${err.isSpaceProblem ? `free some space${err.space ? ` on ${err.space.mount}` : ''}` : err.remedy}, then ${
              last
                ? `continue with: squid-train --out ${options.runDir} --resume (last good checkpoint: ${last})`
                : 'start the run again (no checkpoint was written yet)'
            }`,
          )
        : err;
    const skip =
      err instanceof BadImageError
        ? ' (run.data.skipBad, squid-train --skip-bad, skips unreadable files)'
        : '';
    // Whatever stops the run is in train.log too, not only on the terminal; when train.log is
    // what cannot be written, the error (which names the last good checkpoint) says it alone.
    try {
      runLog(options.runDir)(
        stopped instanceof WriteError
          ? `stopped: ${stopped.message}`
          : `stopped: ${(err as Error).message}${skip}; last good checkpoint: ${last ?? 'none yet'}`,
      );
    } catch {}
    throw stopped;
  } finally {
    lock.release();
  }
}

/** `…/last.safetensors, epoch 3` (`…, epoch 3 + 5 iterations` mid-epoch), or null without one. */
function lastGoodCheckpoint(runDir: string): string | null {
  const last = runPaths(runDir).checkpoint('last');
  if (!existsSync(last)) return null;
  try {
    const m = readCheckpointMeta<CheckpointMeta>(last);
    return `${last}, epoch ${m.epoch}${m.stepInEpoch > 0 ? ` + ${m.stepInEpoch} iterations` : ''}`;
  } catch {
    return last;
  }
}

/** A line to the run's train.log (timestamped) and to `log`. */
function runLog(runDir: string, log?: (line: string) => void): (line: string) => void {
  const path = runPaths(runDir).log;
  return (line) => {
    appendFileWholeSync(path, `${new Date().toISOString()} ${line}\n`);
    log?.(line);
  };
}

/** Refuses a resume without a checkpoint or with another recipe, and a new run over an old one. */
function checkRunFolder(options: TrainOptions): void {
  const { runDir, config } = options;
  const lastPath = runPaths(runDir).checkpoint('last');
  if (options.resume) {
    if (!existsSync(lastPath))
      throw new RunFolderError(
        existsSync(runPaths(runDir).config)
          ? `cannot resume: ${lastPath} does not exist (the run stopped before its first checkpoint); start it again without --resume`
          : `cannot resume: ${lastPath} does not exist`,
      );
    const old = readRunConfig(runDir, options.models);
    const diff = configDifferences(old, config);
    if (diff.length > 0 && !options.force) {
      throw new RunFolderError(
        `cannot resume ${runDir}: the config differs from its config.json (use --force to resume anyway):\n  ${diff.join('\n  ')}`,
      );
    }
    // The epoch count may grow on resume, unless the model planned its schedule from it.
    const plugin = pluginOf(config, options.models ?? [squidModel]);
    const [was, now] = [old, config].map((c) => plugin.recipe(modelConfigOf(c)).train.epochs);
    const why = was !== now ? plugin.fixedLength?.(modelConfigOf(config)) : undefined;
    if (why && !options.force) {
      throw new RunFolderError(
        `cannot resume ${runDir} for ${now} epochs: it was started for ${was}, and ${plugin.name} cannot change a run's length (${why}); resume it with --epochs ${was}, or train a new run with --epochs ${now}`,
      );
    }
  } else if (existsSync(lastPath)) {
    throw new RunFolderError(
      `${runDir} already holds a run (${lastPath}); use --resume to continue it or another --out`,
    );
  }
}

async function trainUnlocked(
  options: TrainOptions & { data: TrainingData; plugin: AnyModelPlugin },
): Promise<TrainResult> {
  const { runDir, config, data, plugin } = options;
  const paths = runPaths(runDir);
  const lastPath = paths.checkpoint('last');
  createRunFolder(runDir);
  removePartials(paths.checkpoints);
  writeFileAtomicSync(paths.config, `${JSON.stringify(config, null, 2)}\n`);
  const logLine = runLog(runDir, options.log);

  const modelConfig = modelConfigOf(config);
  const recipe = plugin.recipe(modelConfig);
  const seed = recipe.train.seed;
  const model = plugin.create(modelConfig, seed, config.run);
  let trainRng = Rng.fromSeed((seed ^ 0x5eed) | 0);
  let epoch = 0;
  let stepInEpoch = 0;
  let iteration = 0;
  let dataPosition: Position = { epoch: 0, step: 0 };
  let norm: NormStats | null = null;
  let threshold: number | null = null;
  let bestAuc: number | null = null;
  let lastAuc: number | null = null;
  let resumeTensors: ReturnType<typeof readCheckpoint<CheckpointMeta>> | undefined;
  if (options.resume) {
    resumeTensors = readCheckpoint<CheckpointMeta>(lastPath);
    const m = resumeTensors.meta;
    ({ epoch, stepInEpoch, iteration, dataPosition, norm, threshold, bestAuc } = m);
    lastAuc = m.auc;
    trainRng = Rng.fromState(m.rng);
  }
  const trainer = model.createTrainer(trainRng);
  // bfloat16 kernels compute other numbers: a resume across precisions is named like one across backends.
  const report = backendReport();
  const backend = report
    ? `${report.backend}${report.precision === 'bfloat16' ? ' (bfloat16)' : ''}`
    : 'unknown';
  try {
    if (resumeTensors) {
      restoreState(lastPath, resumeTensors.tensors, checkpointEntries(model, trainer));
      const savedOn = resumeTensors.meta.backend;
      if (savedOn !== backend)
        logLine(
          `note: checkpoint written on backend ${savedOn}, resuming on ${backend}; numbers will not match a straight run bit for bit`,
        );
      logLine(`resumed ${runDir} at epoch ${epoch + 1}, step ${stepInEpoch}, iteration ${iteration}`);
      resumeTensors = undefined;
    } else {
      logLine(
        `new run ${runDir}: ${plugin.name === 'squid' ? '' : `model ${plugin.name}, `}preset ${recipe.preset}, seed ${seed}, backend ${backend}`,
      );
    }
    // `last` is the commit point of an epoch: everything else of epoch N (its sample grid, its
    // metrics.jsonl row, `best`) is written before it, what is kept of it after. So after any
    // crash or failed write, metrics.jsonl is cut back to the checkpoint's epoch (a row past it
    // belongs to an epoch that is trained again now) and a kept copy that did not get written is
    // made now; a new run starts with no rows.
    const missing = trimMetrics(paths, epoch);
    if (missing.length > 0)
      logLine(
        `note: metrics.jsonl has no row for epoch ${missing.join(', ')} (written by an earlier version)`,
      );
    const keptPath = paths.checkpoint(epochCheckpointName(epoch));
    if (
      options.resume &&
      config.run.keepEvery > 0 &&
      epoch > 0 &&
      epoch % config.run.keepEvery === 0 &&
      stepInEpoch === 0 &&
      !existsSync(keptPath)
    )
      copyCheckpoint(lastPath, keptPath);
    const { batchSize, epochs } = recipe.train;
    const nCritic = (recipe.train as { nCritic?: number }).nCritic;
    const steps = recipe.train.iterationsPerEpoch ?? data.train.stepsPerEpoch(batchSize, true);
    // A contaminated training set says how many of its images are abnormal.
    const abnormal = data.train.items.filter((item) => item.label === 1).length;
    logLine(
      `${epochs} epochs × ${steps} iterations, batch ${batchSize}${nCritic !== undefined ? `, n_critic ${nCritic}` : ''}, ${data.train.length} training images per data epoch${abnormal > 0 ? ` (${abnormal} abnormal: contamination ${config.run.data.contamination})` : ''}`,
    );
    const normSet = await normImageSet(data.train, config.run.normImages);
    let valSet: ImageSet | null | undefined;

    const save = (name: CheckpointName, auc: number | null) => {
      const meta: CheckpointMeta = {
        format: 'squid-checkpoint',
        version: 1,
        epoch,
        stepInEpoch,
        iteration,
        dataPosition,
        rng: trainRng.getState(),
        norm,
        threshold,
        auc,
        bestAuc,
        backend,
        savedAt: new Date().toISOString(),
      };
      saveCheckpoint(paths.checkpoint(name), checkpointEntries(model, trainer), meta);
    };

    const stream = data.train.batches({
      batchSize,
      seed,
      shuffle: true,
      augment: data.augment,
      epochs: Number.POSITIVE_INFINITY,
      dropLast: true,
      start: dataPosition,
      prefetch: 2,
    });
    // A run that keeps a training curve starts it at iteration 0: the initial weights, validated.
    if (!options.resume && config.run.keepEvery > 0) {
      valSet = data.val ? await labelledImageSet(data.val) : null;
      const validation = await validate(model, plugin, normSet, valSet, config.run);
      norm = validation.norm;
      threshold = validation.threshold;
      save(epochCheckpointName(0), validation.auc);
      logLine(`kept the initial weights as ${epochCheckpointName(0)} (val AUC ${fmt(validation.auc)})`);
    }
    const runStart = performance.now();
    // Milliseconds spent waiting for batches (the trainer times its own phases).
    let dataMs = 0;
    let itersThisRun = 0;
    const result = (status: TrainResult['status'], message?: string): TrainResult => ({
      status,
      epoch,
      iteration,
      bestAuc,
      lastAuc,
      runDir,
      message,
    });
    try {
      for (; epoch < epochs; epoch++) {
        const lr = trainer.setEpoch(epoch);
        const epochStart = performance.now();
        // Per loss term: sum and count over the iterations that computed it.
        const sums = new Map<string, { sum: number; count: number }>();
        const t0: Record<string, number> = { ...trainer.timings, data: dataMs };
        const iterStart = iteration;
        for (; stepInEpoch < steps; stepInEpoch++) {
          // An iteration is synchronous tensor work: yield once so that signal handlers and
          // timers (which set the stop request) get to run.
          await new Promise((resolve) => setImmediate(resolve));
          if (options.shouldStop?.()) {
            // The weights moved since the last validation: no AUC for this checkpoint.
            save('last', null);
            logLine(`interrupted: checkpoint written at epoch ${epoch + 1}, step ${stepInEpoch}`);
            return result('interrupted');
          }
          const tData = performance.now();
          const next = await stream.next();
          if (next.done) throw new Error('training data stream ended');
          const batch = next.value;
          dataMs += performance.now() - tData;
          let losses: Record<string, number>;
          try {
            losses = trainer.step(batch.images, {
              epoch,
              stepInEpoch,
              iteration,
              totalIterations: epochs * steps,
            });
          } finally {
            batch.images.dispose();
          }
          dataPosition = batch.next;
          iteration++;
          itersThisRun++;
          for (const [name, value] of Object.entries(losses)) {
            const s = sums.get(name) ?? { sum: 0, count: 0 };
            s.sum += value;
            s.count++;
            sums.set(name, s);
          }
          const elapsed = (performance.now() - runStart) / 1000;
          const ips = (itersThisRun * batchSize) / elapsed;
          const left = (epochs - epoch - 1) * steps + (steps - stepInEpoch - 1);
          options.onProgress?.({
            epoch,
            epochs,
            step: stepInEpoch,
            steps,
            iteration,
            losses,
            imagesPerSecond: ips,
            etaSeconds: (left * batchSize) / ips,
          });
        }
        stepInEpoch = 0;
        const trainSeconds = (performance.now() - epochStart) / 1000;
        const done = epoch + 1;
        let validation: Validation | null = null;
        if (done % config.run.validateEvery === 0 || done === epochs) {
          if (valSet === undefined) valSet = data.val ? await labelledImageSet(data.val) : null;
          validation = await validate(model, plugin, normSet, valSet, config.run);
          norm = validation.norm;
          if (validation.auc !== null) {
            lastAuc = validation.auc;
            threshold = validation.threshold;
          }
          if (
            (done % config.run.sampleEvery === 0 || done === epochs) &&
            validation.examples.inputs.length > 0
          ) {
            testStopPoint('sample', done);
            const file = `${paths.samples}/epoch-${String(done).padStart(4, '0')}.png`;
            await writeSampleGrid(
              file,
              recipe.imageSize,
              validation.examples.inputs,
              validation.examples.recons,
            );
          }
        }
        const n = iteration - iterStart;
        const now = { ...trainer.timings, data: dataMs };
        const timings = Object.fromEntries(
          Object.entries(now).map(([k, v]) => [k, (v - (t0[k] ?? 0)) / Math.max(n, 1)]),
        );
        const metrics: EpochMetrics = {
          epoch: done,
          iteration,
          lr,
          loss: Object.fromEntries(
            [...sums].map(([k, { sum, count }]) => [k, count > 0 ? sum / count : null]),
          ),
          val: validation
            ? {
                auc: validation.auc,
                threshold: validation.threshold,
                scores: validation.scores,
                count: validation.count,
                seconds: validation.seconds,
              }
            : null,
          norm,
          seconds: (performance.now() - epochStart) / 1000,
          imagesPerSecond: (n * batchSize) / trainSeconds,
          timings,
        };
        const improved = validation?.auc != null && (bestAuc === null || validation.auc > bestAuc);
        if (improved) bestAuc = validation!.auc;
        // The order that keeps metrics.jsonl and the checkpoints agreeing whatever stops the run
        // between two writes: the row and `best` first, `last` (the commit point) after them,
        // then the kept copy; resume cuts metrics.jsonl back to `last` (see above).
        testStopPoint('metrics', done);
        appendMetrics(paths, metrics);
        epoch = done;
        if (improved) {
          testStopPoint('best', done);
          save('best', validation!.auc);
          // `last` is the same checkpoint: a hard link where the file system allows it.
          testStopPoint('last', done);
          copyCheckpoint(paths.checkpoint('best'), lastPath);
        } else {
          testStopPoint('last', done);
          save('last', validation?.auc ?? null);
        }
        if (config.run.keepEvery > 0 && done % config.run.keepEvery === 0) {
          testStopPoint('keep', done);
          copyCheckpoint(lastPath, paths.checkpoint(epochCheckpointName(done)));
        }
        epoch = done - 1;
        options.onEpoch?.(metrics);
        testStopPoint('log', done);
        logLine(describeEpoch(metrics, epochs, improved));
      }
      return result('completed');
    } catch (err) {
      if (err instanceof NonFiniteLossError) {
        logLine(
          `stopped: ${err.message}; last good checkpoint: ${existsSync(lastPath) ? lastPath : 'none yet'}`,
        );
        return result('non-finite', err.message);
      }
      throw err;
    } finally {
      await stream.return(undefined);
    }
  } finally {
    trainer.dispose();
    model.dispose();
  }
}

function fmt(x: number | null, digits = 4): string {
  return x === null ? '–' : x.toFixed(digits);
}

/** One human-readable line per epoch: the loss terms by name (SQUID: D G recon teacher dist adv). */
function describeEpoch(m: EpochMetrics, epochs: number, best: boolean): string {
  const losses = Object.entries(m.loss)
    .map(([name, v]) => `${name.length <= 1 ? name.toUpperCase() : name} ${fmt(v)}`)
    .join(' ');
  const lr = Object.values(m.lr)[0];
  const val = m.val?.auc != null ? ` val AUC ${fmt(m.val.auc)}${best ? ' (best)' : ''}` : '';
  return (
    `epoch ${m.epoch}/${epochs}: ${losses}${lr !== undefined ? ` lr ${lr.toExponential(2)}` : ''}${val} ` +
    `${m.imagesPerSecond.toFixed(1)} img/s ${m.seconds.toFixed(1)} s`
  );
}

export type { RunPaths };

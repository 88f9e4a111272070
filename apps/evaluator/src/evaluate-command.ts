import { join } from 'node:path';
import { backendStatus, describeBackend } from '@squid-ad/backend';
import { selectThreshold, type ThresholdMethod } from '@squid-ad/metrics';
import type { CliDeps, EvalSplit, ScoringRun } from './deps.js';
import { scoreNameOf, type ThresholdSpec } from './evaluation-report.js';
import type { CheckpointChoice } from './run-checkpoint.js';
import { scoreImages } from './score-images.js';
import type { ScoredItem } from './scored-item.js';
import { type EvaluationFiles, writeEvaluation } from './write-evaluation.js';

export interface EvaluateCommandOptions {
  run: string;
  data?: string;
  split: string;
  /** normal and abnormal images of a generated split (DigitAnatomy test) */
  testSize?: { normal: number; abnormal: number };
  checkpoint?: CheckpointChoice;
  /** TensorFlow.js backend (default: env SQUID_BACKEND, else auto) */
  backend?: string;
  /** what the oneDNN kernels compute in: auto, float32, bfloat16 (default: env SQUID_ONEDNN_PRECISION, else auto) */
  precision?: string;
  thresholdFrom: 'val' | 'oracle';
  thresholdMethod: ThresholdMethod;
  targetSensitivity?: number;
  /** a fixed threshold; overrides thresholdFrom */
  threshold?: number;
  /** cell side of `recon-l1-worst-cell` in pixels (default: the run's) */
  reconCell?: number;
  out?: string;
  batchSize: number;
  resamples: number;
  seed: number;
  gridCount: number;
  /** skip unreadable images (listed in report.json `skipped`, exit 2) instead of stopping at the first */
  skipBad?: boolean;
}

/** An image left out of an evaluation, and why. */
export interface SkippedFile {
  path: string;
  reason: string;
}

async function loadAll(split: EvalSplit): Promise<Float32Array[]> {
  const images: Float32Array[] = [];
  for (let i = 0; i < split.items.length; i++) images.push(await split.load(i));
  return images;
}

/**
 * Every image of the split, loaded once; with `skipBad`, the unreadable ones (a decoder's
 * `BadImageError`: corrupt, empty, too large, missing) are left out of both the items and the
 * images and come back with the reason.
 */
async function loadSplit(
  split: EvalSplit,
  skipBad: boolean,
): Promise<{ items: EvalSplit['items']; images: Float32Array[]; skipped: SkippedFile[] }> {
  if (!skipBad) return { items: split.items, images: await loadAll(split), skipped: [] };
  const items: EvalSplit['items'][number][] = [];
  const images: Float32Array[] = [];
  const skipped: SkippedFile[] = [];
  for (let i = 0; i < split.items.length; i++) {
    try {
      images.push(await split.load(i));
      items.push(split.items[i]);
    } catch (err) {
      const e = err as { name?: string; reason?: string; message?: string };
      if (e.name !== 'BadImageError') throw err;
      skipped.push({ path: split.items[i].path, reason: e.reason ?? String(e.message) });
    }
  }
  return { items, images, skipped };
}

/** The threshold fixed before looking at test labels: the run's own, or picked on the val split. */
async function valThreshold(
  run: ScoringRun,
  opts: EvaluateCommandOptions,
  deps: CliDeps,
): Promise<ThresholdSpec> {
  if (run.threshold !== undefined) {
    return { source: 'val', value: run.threshold, method: run.thresholdMethod ?? 'run' };
  }
  let split: EvalSplit;
  try {
    split = await deps.openSplit({
      run,
      runDir: opts.run,
      dataDir: opts.data,
      split: 'val',
      size: run.config.imageSize,
    });
  } catch (err) {
    throw new Error(
      `--threshold-from val: the run has no validation threshold and no val split could be opened (${(err as Error).message}); ` +
        'use --threshold-from oracle',
    );
  }
  const { scores } = await scoreImages(
    run,
    await loadAll(split),
    opts.batchSize,
    undefined,
    split.items.map((it) => it.path),
  );
  const picked = selectThreshold(
    split.items.map((it) => it.label),
    scores,
    { method: opts.thresholdMethod, targetSensitivity: opts.targetSensitivity },
  );
  return { source: 'val', value: picked.threshold, method: opts.thresholdMethod };
}

/**
 * `squid-eval evaluate`: scores a labelled split with a run and writes the full report
 * (default `RUN_DIR/eval/`). Returns the report's paths.
 */
export async function evaluateCommand(
  opts: EvaluateCommandOptions,
  deps: CliDeps,
): Promise<EvaluationFiles & { skipped: SkippedFile[] }> {
  const run = await deps.loadRun(opts.run, {
    checkpoint: opts.checkpoint,
    backend: opts.backend,
    precision: opts.precision,
  });
  if (run.backend) deps.stderr(describeBackend(run.backend));
  try {
    const size = run.config.imageSize;
    const split = await deps.openSplit({
      run,
      runDir: opts.run,
      dataDir: opts.data,
      split: opts.split,
      size,
      ...(opts.testSize ? { generated: opts.testSize } : {}),
    });
    const { items: kept, images, skipped } = await loadSplit(split, opts.skipBad ?? false);
    for (const s of skipped) deps.stderr(`squid-eval evaluate: skipped ${s.path}: ${s.reason}`);
    if (kept.length === 0) throw new Error(`split '${opts.split}' has no images`);
    const { scores, recon, reconL1, reconL1WorstCell } = await scoreImages(
      run,
      images,
      opts.batchSize,
      opts.reconCell,
      kept.map((it) => it.path),
    );
    const items: ScoredItem[] = kept.map((it, i) => ({
      path: it.path,
      label: it.label,
      score: scores[i],
      reconL1: reconL1[i],
      reconL1WorstCell: reconL1WorstCell[i],
      ...(it.type !== undefined && it.label === 1 ? { type: it.type } : {}),
    }));
    const reconCell = opts.reconCell ?? run.reconCell;
    const threshold: ThresholdSpec =
      opts.threshold !== undefined
        ? { source: 'fixed', value: opts.threshold }
        : opts.thresholdFrom === 'oracle'
          ? { source: 'oracle', method: opts.thresholdMethod, targetSensitivity: opts.targetSensitivity }
          : await valThreshold(run, opts, deps);
    const out = opts.out ?? join(opts.run, 'eval');
    const { report, files } = await writeEvaluation(out, {
      items,
      threshold,
      images: (i) => ({ size, input: images[i], recon: recon[i] }),
      gridCount: opts.gridCount,
      options: { resamples: opts.resamples, seed: opts.seed, scoreName: scoreNameOf(run) },
      ...(run.model ? { model: run.model } : {}),
      source: {
        run: opts.run,
        // The model and the name of its own score (the one `metrics` use), when the run says.
        ...(run.model ? { model: run.model.name, score: run.model.scoreName } : {}),
        checkpoint: run.checkpoint ?? opts.checkpoint ?? 'best',
        ...(run.trainedTo ?? {}),
        data: opts.data ?? '(run data)',
        split: opts.split,
        ...(reconCell !== undefined ? { reconCell } : {}),
        ...(run.backend ? { backend: backendStatus(run.backend) } : {}),
      },
      ...(opts.skipBad ? { skipped } : {}),
    });
    const m = report.metrics;
    const pct = (v: number) => (v * 100).toFixed(1);
    deps.stdout(
      `AUC ${pct(m.auc)} [${pct(report.ci.auc.lower)}, ${pct(report.ci.auc.upper)}] · AP ${pct(m.averagePrecision)} · ` +
        `acc ${pct(m.accuracy)} · F1 ${pct(m.f1)} · sens ${pct(m.recall)} · spec ${pct(m.specificity)} ` +
        `(threshold ${report.threshold.value ?? '∞'} from ${report.threshold.source})`,
    );
    if (report.scores) {
      deps.stdout(
        `AUC by score: ${Object.entries(report.scores)
          .map(([name, s]) => `${name} ${pct(s.auc)}`)
          .join(' · ')}`,
      );
    }
    deps.stdout(`report: ${files.html}`);
    return { ...files, skipped };
  } finally {
    run.dispose();
  }
}

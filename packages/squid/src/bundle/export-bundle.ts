import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { checkFreeSpace, writeFileAtomicSync } from '@squid-ad/backend';
import type { AnyModelPlugin } from '@squid-ad/model-api';
import { readScoringCheckpoint } from '../load-run.js';
import type { CheckpointName } from '../run-folder.js';
import { squidModel } from '../squid-plugin.js';
import { modelConfigOf, pluginOf } from '../train/run-config.js';
import {
  BUNDLE_FORMAT,
  BUNDLE_MANIFEST,
  BUNDLE_VERSION,
  type BundleManifest,
  parseBundleManifest,
  stringifyBundleManifest,
} from './manifest.js';
import { encodeSafetensors, type NamedTensor } from './safetensors-bytes.js';

/** Options of {@link exportBundle}. */
export interface ExportBundleOptions {
  /** Default: best, else last (as `loadRun`). */
  checkpoint?: CheckpointName;
  /** Storage of the float weights (default float32; float16 halves the file). */
  precision?: 'float32' | 'float16';
  /** The models the run may name (default: SQUID alone). */
  models?: readonly AnyModelPlugin[];
}

/** A bundle in memory: the manifest and the weights file it names. */
export interface Bundle {
  manifest: BundleManifest;
  weights: Uint8Array;
}

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

/**
 * Builds the inference bundle of a run: the scoring state of one checkpoint (no optimizer moments,
 * no teacher decoder) plus μ/σ, threshold, config and provenance. Errors name the file.
 */
export function exportBundle(runDir: string, options: ExportBundleOptions = {}): Bundle {
  const models = options.models ?? [squidModel];
  const { runConfig, name, path, file, meta } = readScoringCheckpoint(runDir, options.checkpoint, models);
  const plugin = pluginOf(runConfig, models);
  const config = modelConfigOf<Record<string, unknown>>(runConfig);
  const precision = options.precision ?? 'float32';
  // The model only names and shapes the scoring state; its values come from the checkpoint.
  const model = plugin.create(config, plugin.recipe(config).train.seed, runConfig.run);
  const tensors: NamedTensor[] = [];
  try {
    for (const e of model.scoringState?.() ?? model.state()) {
      const t = file.tensors.get(e.name);
      if (!t) throw new Error(`checkpoint ${path}: missing tensor ${e.name}`);
      if (t.shape.join() !== e.variable.shape.join())
        throw new Error(
          `checkpoint ${path}: ${e.name} has shape [${t.shape}], the model expects [${e.variable.shape}]`,
        );
      tensors.push({ name: e.name, shape: t.shape, data: t.data });
    }
  } finally {
    model.dispose();
  }
  const threshold = meta.threshold ?? null;
  try {
    return createBundle({
      model: plugin.name,
      config,
      tensors,
      precision,
      score: {
        norm: meta.norm,
        scoreNorm: runConfig.run.scoreNorm,
        reconCell: runConfig.run.reconCell,
        threshold,
        thresholdOrigin:
          threshold === null
            ? null
            : { split: 'validation', method: runConfig.run.threshold, epoch: meta.epoch },
      },
      provenance: {
        run: runDir,
        checkpoint: name,
        epoch: meta.epoch,
        iteration: meta.iteration,
        auc: meta.auc,
        checkpointSha256: sha256(readFileSync(path)),
        exportedAt: new Date().toISOString(),
      },
    });
  } catch (err) {
    throw new Error(`checkpoint ${path}: ${(err as Error).message}`);
  }
}

/**
 * A bundle from scoring-state tensors (see {@link scoringState}) and what the manifest records:
 * `exportBundle` for a run, benches and tests for a model built in memory.
 */
export function createBundle(o: {
  /** the model's plug-in name (default `squid`) */
  model?: string;
  config: object;
  tensors: NamedTensor[];
  precision: 'float32' | 'float16';
  score: BundleManifest['score'];
  provenance: BundleManifest['provenance'];
}): Bundle {
  let weights: Uint8Array;
  try {
    weights = encodeSafetensors(o.tensors, o.precision === 'float16' ? 'F16' : 'F32', {
      format: BUNDLE_FORMAT,
    });
  } catch (err) {
    throw new Error(`${(err as Error).message}; export it as float32`);
  }
  const weightsSha = sha256(weights);
  const manifest: BundleManifest = {
    format: BUNDLE_FORMAT,
    version: BUNDLE_VERSION,
    precision: o.precision,
    model: o.model ?? 'squid',
    config: o.config as Record<string, unknown>,
    score: o.score,
    provenance: o.provenance,
    weights: {
      // Named by content: rewriting a bundle in place never pairs a manifest with other weights.
      file: `weights-${weightsSha.slice(0, 12)}.safetensors`,
      bytes: weights.length,
      sha256: weightsSha,
      tensors: o.tensors.length,
    },
  };
  // What a reader will parse: check it here, so a bad field fails the export, not the viewer.
  parseBundleManifest(stringifyBundleManifest(manifest), 'bundle.json');
  return { manifest, weights };
}

/**
 * Writes a bundle into `dir` atomically: the weights first, then `bundle.json` (renamed into
 * place), then weights files of an earlier export are removed. Returns the two paths. Without
 * room for both (checked first) or on a failed write: a `WriteError` naming the file.
 */
export function writeBundle(dir: string, bundle: Bundle): { manifest: string; weights: string } {
  const weightsPath = join(dir, bundle.manifest.weights.file);
  const manifest = stringifyBundleManifest(bundle.manifest);
  // Room for both files before either is written (each write checks again for itself).
  checkFreeSpace(weightsPath, bundle.weights.byteLength + Buffer.byteLength(manifest));
  writeFileAtomicSync(weightsPath, bundle.weights, { durable: true });
  const manifestPath = join(dir, BUNDLE_MANIFEST);
  writeFileAtomicSync(manifestPath, manifest, { durable: true });
  for (const f of readdirSync(dir)) {
    if (/^weights-[0-9a-f]{12}\.safetensors$/.test(f) && f !== bundle.manifest.weights.file)
      rmSync(join(dir, f), { force: true });
  }
  return { manifest: manifestPath, weights: weightsPath };
}

/** Reads a bundle folder written by {@link writeBundle} into the files {@link loadBundle} takes. */
export function readBundleDir(dir: string): {
  manifest: string;
  weights: Uint8Array;
  manifestName: string;
  weightsName: string;
} {
  const manifestName = join(dir, BUNDLE_MANIFEST);
  let text: string;
  try {
    text = readFileSync(manifestName, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${dir}: not a squid bundle (no ${BUNDLE_MANIFEST}; make one with squid-eval export)`
        : `cannot read ${manifestName}: ${(err as Error).message}`,
    );
  }
  const manifest = parseBundleManifest(text, manifestName);
  const weightsName = join(dir, manifest.weights.file);
  let weights: Uint8Array;
  try {
    weights = readFileSync(weightsName);
  } catch (err) {
    throw new Error(`cannot read ${weightsName} (named by ${manifestName}): ${(err as Error).message}`);
  }
  return { manifest: text, weights, manifestName, weightsName };
}

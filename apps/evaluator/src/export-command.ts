import { relative } from 'node:path';
import type { CliDeps } from './deps.js';
import type { CheckpointChoice } from './run-checkpoint.js';

/** Options of `squid-eval export`. */
export interface ExportCommandOptions {
  run: string;
  checkpoint?: CheckpointChoice;
  precision: 'float32' | 'float16';
  out: string;
  json?: boolean;
}

/** What `squid-eval export --json` prints. */
export interface ExportSummary {
  dir: string;
  /** the bundle's model (`squid`, `ae`, …) */
  model: string;
  manifest: string;
  weights: string;
  precision: 'float32' | 'float16';
  /** size of the weights file */
  weightsBytes: number;
  /** size of the checkpoint it came from (weights, optimizer moments, queues) */
  checkpointBytes: number;
  checkpoint: CheckpointChoice;
  epoch: number;
  threshold: number | null;
}

const mb = (n: number) => `${(n / 1e6).toFixed(n < 1e7 ? 2 : 1)} MB`;

/**
 * `squid-eval export`: writes the run's inference bundle (`bundle.json` + weights) into `out`,
 * for a run of any model in `deps.models` (default SQUID and the baselines). Model code is
 * imported lazily, like every command, so `--help` starts fast.
 */
export async function exportCommand(
  opts: ExportCommandOptions,
  deps: Pick<CliDeps, 'stdout' | 'models'>,
): Promise<number> {
  const { statSync } = await import('node:fs');
  const { backendReport, initBackend } = await import('@squid-ad/backend');
  // Only variable shapes are needed, never a forward: the plain CPU backend is enough.
  if (!backendReport()) await initBackend({ backend: 'cpu' });
  const { exportBundle, runPaths, writeBundle } = await import('@squid-ad/squid');
  const { defaultModels } = await import('./real-deps.js');
  const models = await (deps.models ?? defaultModels)();
  const bundle = exportBundle(opts.run, { checkpoint: opts.checkpoint, precision: opts.precision, models });
  const paths = writeBundle(opts.out, bundle);
  const { provenance, weights, score } = bundle.manifest;
  const checkpointBytes = statSync(runPaths(opts.run).checkpoint(provenance.checkpoint)).size;
  const summary: ExportSummary = {
    dir: opts.out,
    model: bundle.manifest.model,
    manifest: paths.manifest,
    weights: paths.weights,
    precision: opts.precision,
    weightsBytes: weights.bytes,
    checkpointBytes,
    checkpoint: provenance.checkpoint,
    epoch: provenance.epoch,
    threshold: score.threshold,
  };
  if (opts.json) {
    deps.stdout(JSON.stringify(summary));
  } else {
    deps.stdout(
      `${opts.out}: bundle.json + ${relative(opts.out, paths.weights)} (${mb(weights.bytes)} ${opts.precision}; ` +
        `the ${provenance.checkpoint} checkpoint, epoch ${provenance.epoch}, is ${mb(checkpointBytes)})`,
    );
  }
  return 0;
}

import { basename, extname, join } from 'node:path';
import { describeBackend, writeFileAtomicSync } from '@squid-ad/backend';
import type { CliDeps } from './deps.js';
import { expandInputs } from './expand-inputs.js';
import { absDifference, greyToRgb, heatmapToRgb } from './heatmap.js';
import { encodePng } from './png-image.js';
import type { CheckpointChoice } from './run-checkpoint.js';
import { type ScoreLine, scoreFiles } from './score-files.js';

export interface ScoreCommandOptions {
  run: string;
  checkpoint?: CheckpointChoice;
  /** TensorFlow.js backend (default: env SQUID_BACKEND, else auto) */
  backend?: string;
  /** what the oneDNN kernels compute in: auto, float32, bfloat16 (default: env SQUID_ONEDNN_PRECISION, else auto) */
  precision?: string;
  /** write `<name>-recon.png` and `<name>-diff.png` per image here */
  heatmap?: string;
  batchSize: number;
  /** overrides the run's validation threshold */
  threshold?: number;
  /** cell side of `recon-l1-worst-cell` in pixels (default: the run's) */
  reconCell?: number;
}

/**
 * `squid-eval score`: prints one JSON line per readable image; each unreadable file is named on
 * stderr and the rest are still scored. Returns the exit code: 2 if any file was bad.
 */
export async function scoreCommand(
  inputs: readonly string[],
  opts: ScoreCommandOptions,
  deps: CliDeps,
): Promise<number> {
  const { files, missing, unreadable } = await expandInputs(inputs);
  let bad = 0;
  for (const m of missing) {
    deps.stderr(`squid-eval score: ${m}: no such file or directory`);
    bad++;
  }
  for (const u of unreadable) {
    deps.stderr(`squid-eval score: ${u.path}: ${u.reason}`);
    bad++;
  }
  if (files.length === 0 && missing.length === 0 && unreadable.length === 0) {
    // Nothing to score is a failure, not a success with no output.
    deps.stderr(`squid-eval score: no image files found in ${inputs.join(', ')}`);
    return 1;
  }
  const run = await deps.loadRun(opts.run, {
    checkpoint: opts.checkpoint,
    backend: opts.backend,
    precision: opts.precision,
  });
  if (run.backend) deps.stderr(describeBackend(run.backend));
  try {
    const size = run.config.imageSize;
    const used = new Map<string, number>();
    await scoreFiles(
      run,
      files.map((f) => ({ path: f, file: f })),
      {
        batchSize: opts.batchSize,
        reconCell: opts.reconCell,
        threshold: opts.threshold ?? run.threshold ?? null,
      },
      deps.loadImage,
      {
        scored: (line, image, recon) => {
          deps.stdout(JSON.stringify(line));
          if (opts.heatmap) {
            // Same base name in two folders must not overwrite: number the repeats.
            const stem = basename(line.path, extname(line.path));
            const n = used.get(stem) ?? 0;
            used.set(stem, n + 1);
            const name = n === 0 ? stem : `${stem}-${n}`;
            const diff = absDifference(image, recon);
            const max = diff.reduce((a, b) => Math.max(a, b), 1e-6);
            writeFileAtomicSync(join(opts.heatmap, `${name}-recon.png`), encodePng(greyToRgb(recon, size)));
            writeFileAtomicSync(
              join(opts.heatmap, `${name}-diff.png`),
              encodePng(heatmapToRgb(diff, size, max)),
            );
          }
        },
        bad: (path, reason) => {
          deps.stderr(`squid-eval score: bad image ${path}: ${reason}`);
          bad++;
        },
      },
    );
  } finally {
    run.dispose();
  }
  return bad > 0 ? 2 : 0;
}

export type { ScoreLine };

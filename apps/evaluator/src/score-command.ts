import { basename, extname, join } from 'node:path';
import { describeBackend, writeFileAtomicSync } from '@squid-ad/backend';
import type { CliDeps } from './deps.js';
import { expandInputs } from './expand-inputs.js';
import { absDifference, greyToRgb, heatmapToRgb } from './heatmap.js';
import { encodePng } from './png-image.js';
import { scoreImages } from './score-images.js';

export interface ScoreCommandOptions {
  run: string;
  checkpoint?: 'best' | 'last';
  /** TensorFlow.js backend (default: env SQUID_BACKEND, else auto) */
  backend?: string;
  /** write `<name>-recon.png` and `<name>-diff.png` per image here */
  heatmap?: string;
  batchSize: number;
  /** overrides the run's validation threshold */
  threshold?: number;
  /** cell side of `recon-l1-worst-cell` in pixels (default: the run's) */
  reconCell?: number;
}

/** One line of `squid-eval score` output. */
export interface ScoreLine {
  path: string;
  /** the discriminator score (official; the threshold applies to it) */
  score: number;
  /** `recon-l1`: mean |reconstruction − input| */
  reconL1: number;
  /** `recon-l1-worst-cell`: largest per-cell mean |reconstruction − input| */
  reconL1WorstCell: number;
  /** score >= threshold; null when the run has no threshold and none was given */
  anomalous: boolean | null;
  threshold: number | null;
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
  const run = await deps.loadRun(opts.run, { checkpoint: opts.checkpoint, backend: opts.backend });
  if (run.backend) deps.stderr(describeBackend(run.backend));
  try {
    const size = run.config.imageSize;
    const threshold = opts.threshold ?? run.threshold ?? null;
    const used = new Map<string, number>();
    // Load, score and print one batch at a time, so memory stays bounded for large folders.
    let good: string[] = [];
    let images: Float32Array[] = [];
    const flush = async () => {
      const { scores, recon, reconL1, reconL1WorstCell } = await scoreImages(
        run,
        images,
        opts.batchSize,
        opts.reconCell,
        good,
      );
      good.forEach((path, i) => {
        const line: ScoreLine = {
          path,
          score: scores[i],
          reconL1: reconL1[i],
          reconL1WorstCell: reconL1WorstCell[i],
          anomalous: threshold === null ? null : scores[i] >= threshold,
          threshold,
        };
        deps.stdout(JSON.stringify(line));
        if (opts.heatmap) {
          // Same base name in two folders must not overwrite: number the repeats.
          const stem = basename(path, extname(path));
          const n = used.get(stem) ?? 0;
          used.set(stem, n + 1);
          const name = n === 0 ? stem : `${stem}-${n}`;
          const diff = absDifference(images[i], recon[i]);
          const max = diff.reduce((a, b) => Math.max(a, b), 1e-6);
          writeFileAtomicSync(join(opts.heatmap, `${name}-recon.png`), encodePng(greyToRgb(recon[i], size)));
          writeFileAtomicSync(
            join(opts.heatmap, `${name}-diff.png`),
            encodePng(heatmapToRgb(diff, size, max)),
          );
        }
      });
      good = [];
      images = [];
    };
    for (const file of files) {
      try {
        images.push(await deps.loadImage(file, { size }));
        good.push(file);
      } catch (err) {
        const msg = (err as Error).message;
        const reason = msg.startsWith(file) ? msg.slice(file.length).replace(/^:\s*/, '') : msg;
        deps.stderr(`squid-eval score: bad image ${file}: ${reason}`);
        bad++;
      }
      if (images.length === opts.batchSize) await flush();
    }
    if (images.length > 0) await flush();
  } finally {
    run.dispose();
  }
  return bad > 0 ? 2 : 0;
}

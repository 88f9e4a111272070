import type { LoadImage, ScoringRun } from './deps.js';
import { scoreImages } from './score-images.js';

/** One line of `squid-eval score` output. */
export interface ScoreLine {
  path: string;
  /** the model's own anomaly score (SQUID: the discriminator score); the threshold applies to it */
  score: number;
  /** what `score` is: the model's score name (`discriminator`, `recon-mse`, …); absent when the run does not say */
  scoreName?: string;
  /** `recon-l1`: mean |reconstruction − input| */
  reconL1: number;
  /** `recon-l1-worst-cell`: largest per-cell mean |reconstruction − input| */
  reconL1WorstCell: number;
  /** score >= threshold; null when the run has no threshold and none was given */
  anomalous: boolean | null;
  threshold: number | null;
}

/** An input to score: `path` as the user gave it (printed), `file` where to read it. */
export interface ScoreInput {
  path: string;
  file: string;
}

/** Receives each outcome of {@link scoreFiles}, in input order within each batch. */
export interface ScoreSink {
  /** `index`: the input's position in `inputs` */
  scored(line: ScoreLine, image: Float32Array, recon: Float32Array, index: number): void | Promise<void>;
  bad(path: string, reason: string, index: number): void;
}

/**
 * Loads, scores and hands on images one batch at a time (memory stays bounded for large
 * folders). An unreadable image goes to `sink.bad` with the reason and the rest are still
 * scored. `squid-eval score` and the queue worker both score through here, so an image gets the
 * same bits either way (scores do not depend on which images share its batch).
 */
export async function scoreFiles(
  run: ScoringRun,
  inputs: readonly ScoreInput[],
  opts: { batchSize: number; reconCell?: number; threshold: number | null },
  loadImage: LoadImage,
  sink: ScoreSink,
): Promise<void> {
  const size = run.config.imageSize;
  const { threshold } = opts;
  let good: Array<ScoreInput & { index: number }> = [];
  let images: Float32Array[] = [];
  const flush = async () => {
    const { scores, recon, reconL1, reconL1WorstCell } = await scoreImages(
      run,
      images,
      opts.batchSize,
      opts.reconCell,
      good.map((g) => g.path),
    );
    for (const [i, { path, index }] of good.entries()) {
      const line: ScoreLine = {
        path,
        score: scores[i],
        ...(run.model ? { scoreName: run.model.scoreName } : {}),
        reconL1: reconL1[i],
        reconL1WorstCell: reconL1WorstCell[i],
        anomalous: threshold === null ? null : scores[i] >= threshold,
        threshold,
      };
      await sink.scored(line, images[i], recon[i], index);
    }
    good = [];
    images = [];
  };
  for (const [index, input] of inputs.entries()) {
    try {
      images.push(await loadImage(input.file, { size }));
      good.push({ ...input, index });
    } catch (err) {
      const msg = (err as Error).message;
      const reason = msg.startsWith(input.file) ? msg.slice(input.file.length).replace(/^:\s*/, '') : msg;
      sink.bad(input.path, reason, index);
    }
    if (images.length === opts.batchSize) await flush();
  }
  if (images.length > 0) await flush();
}

import { tf } from '@squid-ad/backend';
import type { ScoringRun } from './deps.js';

/** Per image, in input order: the model's own score (SQUID: the discriminator's), the reconstruction and its errors. */
export interface ImageScores {
  scores: number[];
  recon: Float32Array[];
  reconL1: number[];
  reconL1WorstCell: number[];
}

/**
 * Scores `[S, S]` images with a run in batches of `batchSize`, keeping input order. `evaluate`
 * and `score` both go through here, so an image gets the same preprocessing and call either way.
 * `reconCell`: cell side of `recon-l1-worst-cell` (default: the run's). A non-finite score or
 * error is an error naming the image (`names[i]`, else its index), never a verdict.
 */
export async function scoreImages(
  run: ScoringRun,
  images: readonly Float32Array[],
  batchSize: number,
  reconCell?: number,
  names?: readonly string[],
): Promise<ImageScores> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const size = run.config.imageSize;
  const scores: number[] = [];
  const recon: Float32Array[] = [];
  const reconL1: number[] = [];
  const reconL1WorstCell: number[] = [];
  for (let start = 0; start < images.length; start += batchSize) {
    const chunk = images.slice(start, start + batchSize);
    const flat = new Float32Array(chunk.length * size * size);
    chunk.forEach((img, i) => {
      if (img.length !== size * size) {
        throw new Error(`image ${start + i} has ${img.length} pixels, the run expects ${size}×${size}`);
      }
      flat.set(img, i * size * size);
    });
    // [B, S, S, 1]
    const batch = tf.tensor4d(flat, [chunk.length, size, size, 1]);
    try {
      const out = await run.score(batch, reconCell === undefined ? undefined : { reconCell });
      const lengths = [out.scores, out.recon, out.reconL1, out.reconL1WorstCell].map((a) => a.length);
      if (lengths.some((n) => n !== chunk.length)) {
        throw new Error(
          `the model returned ${lengths.join('/')} scores/reconstructions/errors for ${chunk.length} images`,
        );
      }
      for (let i = 0; i < chunk.length; i++) {
        const values = [out.scores[i], out.reconL1[i], out.reconL1WorstCell[i]];
        if (!values.every(Number.isFinite))
          throw new Error(
            `${names?.[start + i] ?? `image ${start + i}`}: the model gave a non-finite score (${values.join(', ')}); ` +
              'the image or the checkpoint is broken',
          );
      }
      scores.push(...out.scores);
      recon.push(...out.recon);
      reconL1.push(...out.reconL1);
      reconL1WorstCell.push(...out.reconL1WorstCell);
    } finally {
      batch.dispose();
    }
  }
  return { scores, recon, reconL1, reconL1WorstCell };
}

import { tf } from '@squid-ad/backend';
import type { ScoringRun } from './deps.js';

/**
 * Scores `[S, S]` images with a run in batches of `batchSize`, keeping input order. `evaluate`
 * and `score` both go through here, so an image gets the same preprocessing and call either way.
 */
export async function scoreImages(
  run: ScoringRun,
  images: readonly Float32Array[],
  batchSize: number,
): Promise<{ scores: number[]; recon: Float32Array[] }> {
  if (!Number.isInteger(batchSize) || batchSize < 1)
    throw new Error(`batch size must be a positive integer, got ${batchSize}`);
  const size = run.config.imageSize;
  const scores: number[] = [];
  const recon: Float32Array[] = [];
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
      const out = await run.score(batch);
      if (out.scores.length !== chunk.length || out.recon.length !== chunk.length) {
        throw new Error(`the model returned ${out.scores.length} scores for ${chunk.length} images`);
      }
      scores.push(...out.scores);
      recon.push(...out.recon);
    } finally {
      batch.dispose();
    }
  }
  return { scores, recon };
}

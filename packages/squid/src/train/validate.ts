import { Rng, tf } from '@squid-ad/backend';
import type { ImageDataset } from '@squid-ad/datasets';
import { rocAuc, selectThreshold } from '@squid-ad/metrics';
import {
  anomalyScores,
  discriminate,
  type NormStats,
  normStats,
  type ScoreNorm,
  type ScoringModel,
} from '../score.js';
import type { RunOptions } from './run-config.js';

/** Validation outcome: normalisation statistics, and AUC / threshold when labels are available. */
export interface Validation {
  norm: NormStats;
  auc: number | null;
  threshold: number | null;
  /** Validation images (normal and abnormal) scored. */
  count: number;
  /** A few validation images with their reconstructions, for the sample grid. */
  examples: { inputs: Float32Array[]; recons: Float32Array[] };
  seconds: number;
}

/** Images of a dataset loaded once (no augmentation), kept for every validation of a run. */
export interface ImageSet {
  images: Float32Array[];
  labels: (0 | 1)[];
  size: number;
}

/** The first `count` training images (each from its fixed per-index generator, not augmented). */
export async function normImageSet(train: ImageDataset, count: number): Promise<ImageSet> {
  const images: Float32Array[] = [];
  for (let i = 0; images.length < count && i < count * 2; i++) {
    const s = await train.sample(i % train.length, Rng.fromSeed(0x40f3 + i));
    if (s) images.push(s.image);
  }
  if (images.length === 0)
    throw new Error(`${train.name}: no usable training image for the score normalisation`);
  return { images, labels: images.map(() => 0 as const), size: train.imageSize };
}

/** Every image of a labelled dataset, once, in order. */
export async function labelledImageSet(ds: ImageDataset): Promise<ImageSet> {
  const images: Float32Array[] = [];
  const labels: (0 | 1)[] = [];
  for await (const s of ds.samples()) {
    images.push(s.image);
    labels.push(s.label);
  }
  return { images, labels, size: ds.imageSize };
}

/** Discriminator logits of an image set, in chunks (each image still scored alone). */
export function setLogits(
  model: ScoringModel,
  set: ImageSet,
  norm: ScoreNorm,
): { logits: Float32Array; recon: Float32Array[] } {
  const logits = new Float32Array(set.images.length);
  const recon: Float32Array[] = [];
  const S = set.size;
  const chunk = 16;
  for (let i = 0; i < set.images.length; i += chunk) {
    const part = set.images.slice(i, i + chunk);
    const buf = new Float32Array(part.length * S * S);
    for (let k = 0; k < part.length; k++) buf.set(part[k], k * S * S);
    const x = tf.tensor4d(buf, [part.length, S, S, 1]);
    const d = discriminate(model, x, norm);
    x.dispose();
    logits.set(d.logits, i);
    recon.push(...d.recon);
  }
  return { logits, recon };
}

/** μ/σ over the normalisation images, then AUC and threshold on the validation images. */
export function validate(
  model: ScoringModel,
  normSet: ImageSet,
  valSet: ImageSet | null,
  options: RunOptions,
): Validation {
  const t0 = performance.now();
  const norm = normStats(setLogits(model, normSet, options.scoreNorm).logits);
  let auc: number | null = null;
  let threshold: number | null = null;
  let examples: Validation['examples'] = { inputs: [], recons: [] };
  if (valSet) {
    const { logits, recon } = setLogits(model, valSet, options.scoreNorm);
    const scores = anomalyScores(logits, norm);
    const hasBoth = valSet.labels.includes(0) && valSet.labels.includes(1);
    if (hasBoth) {
      auc = rocAuc(valSet.labels, scores);
      threshold = selectThreshold(valSet.labels, scores, { method: options.threshold }).threshold;
    }
    // Four normal and four abnormal examples for the grid.
    const pick = [0, 1].flatMap((label) =>
      valSet.labels
        .map((l, i) => (l === label ? i : -1))
        .filter((i) => i >= 0)
        .slice(0, 4),
    );
    examples = { inputs: pick.map((i) => valSet.images[i]), recons: pick.map((i) => recon[i]) };
  }
  return {
    norm,
    auc,
    threshold,
    count: valSet?.images.length ?? 0,
    examples,
    seconds: (performance.now() - t0) / 1000,
  };
}

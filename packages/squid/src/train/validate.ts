import { Rng, tf } from '@squid-ad/backend';
import type { ImageDataset } from '@squid-ad/datasets';
import { rocAuc, selectThreshold } from '@squid-ad/metrics';
import type { ModelInstance, ModelPlugin } from '@squid-ad/model-api';
import { type BatchInference, calibratedScores, inferBatch } from '../infer-batch.js';
import { type NormStats, normStats } from '../score.js';
import type { RunOptions } from './run-config.js';

/** AUC of one score on the validation split, overall and per anomaly type (each type against all normals). */
export interface ScoreAuc {
  auc: number;
  /** by anomaly type; empty when the items carry no types */
  perType: Record<string, number>;
}

/** Validation outcome: normalisation statistics, and AUC / threshold when labels are available. */
export interface Validation {
  norm: NormStats;
  /** AUC of the model's own score (the one that picks the best checkpoint; SQUID: the discriminator score) */
  auc: number | null;
  threshold: number | null;
  /**
   * AUC of every score (the model's own under its `scoreName`, then `recon-l1` and
   * `recon-l1-worst-cell`), when the split has both normal and anomalous images
   */
  scores: Record<string, ScoreAuc> | null;
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
  /** anomaly type per image (DigitAnatomy: `normal`, `missing`, `swap`, …), when the data set has them */
  types?: (string | undefined)[];
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

/** Every image of a labelled dataset, once, in order, with its anomaly type when the items carry one. */
export async function labelledImageSet(ds: ImageDataset): Promise<ImageSet> {
  const images: Float32Array[] = [];
  const labels: (0 | 1)[] = [];
  const types: (string | undefined)[] = [];
  // Samples name their item by path only (skipped files leave gaps in the order).
  const typeOf = new Map(ds.items.map((it) => [it.path, it.type]));
  for await (const s of ds.samples()) {
    images.push(s.image);
    labels.push(s.label);
    types.push(typeOf.get(s.path));
  }
  return { images, labels, ...(types.some((t) => t !== undefined) ? { types } : {}), size: ds.imageSize };
}

/**
 * Raw scores, reconstructions and reconstruction errors of an image set, in chunks of 16 (each
 * image's numbers independent of its chunk). Yields to the event loop before each chunk: a whole
 * validation is a minute of synchronous work on a large preset, and a queue worker must renew its
 * job's lock meanwhile.
 */
export async function inferSet(
  model: Pick<ModelInstance, 'infer'>,
  set: ImageSet,
  reconCell?: number,
): Promise<BatchInference> {
  const n = set.images.length;
  const raw = new Float32Array(n);
  const recon: Float32Array[] = [];
  const reconL1 = new Float32Array(n);
  const reconL1WorstCell = new Float32Array(n);
  const S = set.size;
  const chunk = 16;
  for (let i = 0; i < set.images.length; i += chunk) {
    await new Promise((resolve) => setImmediate(resolve));
    const part = set.images.slice(i, i + chunk);
    const buf = new Float32Array(part.length * S * S);
    for (let k = 0; k < part.length; k++) buf.set(part[k], k * S * S);
    const x = tf.tensor4d(buf, [part.length, S, S, 1]);
    let d: BatchInference;
    try {
      d = inferBatch(model, x, { reconCell });
    } finally {
      x.dispose();
    }
    raw.set(d.raw, i);
    recon.push(...d.recon);
    reconL1.set(d.reconL1, i);
    reconL1WorstCell.set(d.reconL1WorstCell, i);
  }
  return { raw, recon, reconL1, reconL1WorstCell };
}

/** AUC of `scores` overall and per anomaly type (each type's images against all normals). */
export function scoreAuc(
  labels: readonly (0 | 1)[],
  scores: ArrayLike<number>,
  types?: readonly (string | undefined)[],
): ScoreAuc {
  const perType: Record<string, number> = {};
  const kinds = new Set<string>();
  types?.forEach((t, i) => {
    if (labels[i] === 1 && t !== undefined) kinds.add(t);
  });
  for (const kind of [...kinds].sort()) {
    const idx = labels.flatMap((l, i) => (l === 0 || types?.[i] === kind ? [i] : []));
    perType[kind] = rocAuc(
      idx.map((i) => labels[i]),
      idx.map((i) => scores[i]),
    );
  }
  return { auc: rocAuc(labels, scores), perType };
}

/**
 * μ/σ of the raw score over the normalisation images, then AUC and threshold of the model's
 * score on the validation images (and the AUCs of the reconstruction errors).
 */
export async function validate(
  model: Pick<ModelInstance, 'infer'>,
  plugin: Pick<ModelPlugin<unknown>, 'calibrated' | 'scoreName'>,
  normSet: ImageSet,
  valSet: ImageSet | null,
  options: Pick<RunOptions, 'reconCell' | 'threshold'>,
): Promise<Validation> {
  const t0 = performance.now();
  const norm = normStats((await inferSet(model, normSet, options.reconCell)).raw);
  let auc: number | null = null;
  let threshold: number | null = null;
  let scoreAucs: Validation['scores'] = null;
  let examples: Validation['examples'] = { inputs: [], recons: [] };
  if (valSet) {
    const { raw, recon, reconL1, reconL1WorstCell } = await inferSet(model, valSet, options.reconCell);
    const scores = calibratedScores(plugin, raw, norm);
    const hasBoth = valSet.labels.includes(0) && valSet.labels.includes(1);
    if (hasBoth) {
      auc = rocAuc(valSet.labels, scores);
      threshold = selectThreshold(valSet.labels, scores, { method: options.threshold }).threshold;
      const values: Record<string, Float32Array> = {
        [plugin.scoreName]: scores,
        'recon-l1': reconL1,
        'recon-l1-worst-cell': reconL1WorstCell,
      };
      scoreAucs = Object.fromEntries(
        Object.entries(values).map(([name, v]) => [name, scoreAuc(valSet.labels, v, valSet.types)]),
      );
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
    scores: scoreAucs,
    count: valSet?.images.length ?? 0,
    examples,
    seconds: (performance.now() - t0) / 1000,
  };
}

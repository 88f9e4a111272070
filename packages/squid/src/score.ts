import { tf } from '@squid-ad/backend';
import type { ModelInstance, ModelPlugin } from '@squid-ad/model-api';
import { calibratedScores, type InferBatchOptions, inferBatch } from './infer-batch.js';

/** How the discriminator normalises at scoring time (see the reference §4b). */
export type ScoreNorm = 'per-image' | 'running';

/** Mean μ and standard deviation σ of the discriminator logit over normal training images. */
export interface NormStats {
  mu: number;
  sigma: number;
  /** Images the statistics were computed on. */
  count: number;
}

/** The generator/discriminator pair the scoring needs (structurally: a SquidModel). */
export interface ScoringModel {
  generator: {
    /** Eval-mode student reconstruction `[B, S, S, C]` (no teacher decoder: all scoring needs). */
    reconstruct(x: tf.Tensor4D): tf.Tensor4D;
  };
  discriminator: { forward(x: tf.Tensor4D, opts: { training: boolean; norm?: ScoreNorm }): tf.Tensor2D };
}

/**
 * The anomaly scores of an image, higher = more anomalous: the official discriminator score
 * `1 − sigmoid((d − μ)/σ)` (the default everywhere) and two reconstruction errors of the same
 * eval forward (see {@link reconError}).
 */
export const SCORE_NAMES = ['discriminator', 'recon-l1', 'recon-l1-worst-cell'] as const;
export type ScoreName = (typeof SCORE_NAMES)[number];

/** Logits, reconstructions and reconstruction errors of a batch of images. */
export interface Discrimination {
  /** d = D(G(x)) per image */
  logits: Float32Array;
  /** one `[S·S]` reconstruction per image (row-major) */
  recon: Float32Array[];
  /** `recon-l1`: mean |recon − x| per image */
  reconL1: Float32Array;
  /** `recon-l1-worst-cell`: largest per-cell mean |recon − x| per image */
  reconL1WorstCell: Float32Array;
}

/** Options of {@link discriminate}. */
export type DiscriminateOptions = InferBatchOptions;

/** SQUID's eval forward: the student reconstruction, and raw = its discriminator logit `[B]`. */
export function squidInfer(model: ScoringModel, norm: ScoreNorm): ModelInstance['infer'] {
  return (x) =>
    tf.tidy(() => {
      const recon = model.generator.reconstruct(x);
      const raw = tf.reshape(
        model.discriminator.forward(recon, { training: false, norm }),
        [-1],
      ) as tf.Tensor1D;
      return { recon, raw };
    });
}

/**
 * `d = D(G_s(x))` with both networks in eval mode, the reconstruction errors from the same
 * forward. `images`: `[B, S, S, 1]` in [0, 1]. The batch runs as one forward, yet an image's
 * numbers never depend on the other images, bit for bit: with `per-image` normalisation each
 * image gets its own BatchNorm statistics (reduced over its H, W only), and the kernels compute
 * every image (and every row of a product) alike whatever the batch size — checked on cpu and
 * wasm, with and without the oneDNN kernels, by score.test.ts.
 */
export function discriminate(
  model: ScoringModel,
  images: tf.Tensor4D,
  norm: ScoreNorm,
  options: DiscriminateOptions = {},
): Discrimination {
  const { raw, ...rest } = inferBatch({ infer: squidInfer(model, norm) }, images, options);
  return { logits: raw, ...rest };
}

/** μ, σ (population std, as numpy's default) of logits; σ is floored so the score stays finite. */
export function normStats(logits: ArrayLike<number>): NormStats {
  const n = logits.length;
  if (n === 0) throw new Error('normStats: no logits');
  let mean = 0;
  for (let i = 0; i < n; i++) mean += logits[i];
  mean /= n;
  let v = 0;
  for (let i = 0; i < n; i++) v += (logits[i] - mean) ** 2;
  const sigma = Math.max(Math.sqrt(v / n), 1e-8);
  return { mu: mean, sigma, count: n };
}

/** Anomaly score A = 1 − sigmoid((d − μ)/σ): 1 = anomalous (the official code's orientation). */
export function anomalyScores(
  logits: ArrayLike<number>,
  stats: Pick<NormStats, 'mu' | 'sigma'>,
): Float32Array {
  const out = new Float32Array(logits.length);
  for (let i = 0; i < logits.length; i++) {
    // 1 − sigmoid(z) = sigmoid(−z), without the cancellation for large z.
    const z = (logits[i] - stats.mu) / stats.sigma;
    out[i] = 1 / (1 + Math.exp(z));
  }
  return out;
}

/** What the `score` of a loaded run or bundle gives per batch. */
export interface RunScores {
  /** the model's anomaly score (SQUID: the official discriminator score), 1 / higher = anomalous */
  scores: Float32Array;
  /** the raw score it is computed from (SQUID: the discriminator logit d, higher = more normal) */
  raw: Float32Array;
  recon: Float32Array[];
  reconL1: Float32Array;
  reconL1WorstCell: Float32Array;
}

/** What a loaded run or bundle scores with: the image side and the stored score settings. */
export interface ScoringSettings {
  imageSize: number;
  norm: Pick<NormStats, 'mu' | 'sigma'>;
  reconCell: number;
}

/**
 * The `score(images)` of a loaded run or bundle: one code path for both, so a float32 bundle
 * scores bit for bit like its run. `images`: `[B, S, S, 1]` in [0, 1].
 */
export function scorer(
  model: Pick<ModelInstance, 'infer'>,
  plugin: Pick<ModelPlugin<unknown>, 'calibrated'>,
  settings: ScoringSettings,
): (images: tf.Tensor4D, options?: { reconCell?: number }) => Promise<RunScores> {
  const S = settings.imageSize;
  return async (images, options = {}) => {
    const [, h, w, c] = images.shape;
    if (h !== S || w !== S || c !== 1)
      throw new Error(`score: images must be [B, ${S}, ${S}, 1], got [${images.shape}]`);
    const d = inferBatch(model, images, { reconCell: options.reconCell ?? settings.reconCell });
    return { scores: calibratedScores(plugin, d.raw, settings.norm), ...d };
  };
}

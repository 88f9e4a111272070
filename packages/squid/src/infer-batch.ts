import { tf } from '@squid-ad/backend';
import type { ModelInstance, ModelPlugin, RawStats } from '@squid-ad/model-api';
import { DEFAULT_RECON_CELL, reconError } from './recon-error.js';

/** The eval outputs of a batch, per image, as plain arrays. */
export interface BatchInference {
  /** the model's raw score per image (SQUID: the discriminator logit d) */
  raw: Float32Array;
  /** one `[S·S]` reconstruction per image (row-major) */
  recon: Float32Array[];
  /** `recon-l1`: mean |recon − x| per image */
  reconL1: Float32Array;
  /** `recon-l1-worst-cell`: largest per-cell mean |recon − x| per image */
  reconL1WorstCell: Float32Array;
}

/** Options of {@link inferBatch}. */
export interface InferBatchOptions {
  /** cell side of `recon-l1-worst-cell` in pixels (default 32) */
  reconCell?: number;
  /**
   * One image per forward instead of the whole batch in one: the same numbers bit for bit for
   * SQUID (tested), slower. For benchmarks and that test.
   */
  perImage?: boolean;
}

/**
 * A model's eval outputs for `images` `[B, S, S, 1]` in [0, 1], with the reconstruction errors
 * of the same forward. The batch runs as one forward; an image's numbers do not depend on the
 * other images (the plug-in contract).
 */
export function inferBatch(
  model: Pick<ModelInstance, 'infer'>,
  images: tf.Tensor4D,
  options: InferBatchOptions = {},
): BatchInference {
  const [b, S, w, c] = images.shape;
  if (w !== S || c !== 1) throw new Error(`infer: images must be [B, S, S, 1], got [${images.shape}]`);
  const cell = options.reconCell ?? DEFAULT_RECON_CELL;
  const raw = new Float32Array(b);
  const recon: Float32Array[] = [];
  const reconL1 = new Float32Array(b);
  const reconL1WorstCell = new Float32Array(b);
  // [B·S·S]: the inputs the errors compare against
  const input = images.dataSync() as Float32Array;
  const n = S * S;
  const forward = (x: tf.Tensor4D, at: number) => {
    const [d, r] = tf.tidy(() => {
      const out = model.infer(x);
      return [out.raw.dataSync() as Float32Array, out.recon.dataSync() as Float32Array];
    });
    raw.set(d, at);
    for (let i = 0; i < d.length; i++) recon.push(r.slice(i * n, (i + 1) * n));
  };
  if (options.perImage) {
    for (let i = 0; i < b; i++) {
      const x = tf.slice(images, [i, 0, 0, 0], [1, -1, -1, -1]) as tf.Tensor4D;
      forward(x, i);
      x.dispose();
    }
  } else if (b > 0) {
    forward(images, 0);
  }
  for (let i = 0; i < b; i++) {
    const e = reconError(input.subarray(i * n, (i + 1) * n), recon[i], S, cell);
    reconL1[i] = e.l1;
    reconL1WorstCell[i] = e.worstCell;
  }
  return { raw, recon, reconL1, reconL1WorstCell };
}

/** The model's anomaly score (higher = more anomalous) from its raw score: the plug-in's calibration, if any. */
export function calibratedScores(
  plugin: Pick<ModelPlugin<unknown>, 'calibrated'>,
  raw: Float32Array,
  stats: RawStats,
): Float32Array {
  return plugin.calibrated ? plugin.calibrated(raw, stats) : raw.slice();
}

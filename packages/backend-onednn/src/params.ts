import { tf } from '@squid-ad/backend';

/** Activations oneDNN fuses as a post-op (TF.js names); anything else stays on the TF.js kernel. */
export const FUSABLE_ACTIVATIONS = { linear: 0, relu: 1, leakyrelu: 2, relu6: 3 } as const;
export type FusableActivation = keyof typeof FUSABLE_ACTIVATIONS;

/** The activation code the addon understands, or undefined when oneDNN cannot fuse it. */
export function activationCode(activation: string | undefined): number | undefined {
  return FUSABLE_ACTIVATIONS[(activation ?? 'linear') as FusableActivation];
}

/**
 * The addon's 19 conv parameters from TF.js's conv info:
 * [N, H, W, C, KH, KW, O, OH, OW, strideH, strideW, dilationH, dilationW,
 *  padTop, padLeft, padBottom, padRight, activation, hasBias].
 */
export function convParams(info: tf.backend_util.Conv2DInfo, activation = 0, hasBias = false): Int32Array {
  const p = info.padInfo;
  return Int32Array.from([
    info.batchSize,
    info.inHeight,
    info.inWidth,
    info.inChannels,
    info.filterHeight,
    info.filterWidth,
    info.outChannels,
    info.outHeight,
    info.outWidth,
    info.strideHeight,
    info.strideWidth,
    info.dilationHeight,
    info.dilationWidth,
    p.top,
    p.left,
    p.bottom,
    p.right,
    activation,
    hasBias ? 1 : 0,
  ]);
}

/** A BatchMatMul reduced to the addon's rank-3 form, or the reason it cannot be. */
export interface MatMulPlan {
  params: Int32Array;
  /** The TF.js output shape `[...batch, M, N]`. */
  outShape: number[];
}

/**
 * Plans `op(a) x op(b)` for the addon's 9 matmul parameters
 * [batchA, batchB, M, K, N, transposeA, transposeB, hasBias, activation]. Batch dims must be
 * equal after broadcasting or one side must have a single batch: the mixed broadcasts
 * (`[2,1]` against `[1,3]`) return a reason and stay on the TF.js kernel.
 */
export function planMatMul(
  aShape: number[],
  bShape: number[],
  transposeA: boolean,
  transposeB: boolean,
  activation = 0,
  hasBias = false,
): MatMulPlan | string {
  const ra = aShape.length;
  const rb = bShape.length;
  if (ra < 2 || rb < 2) return `matMul needs rank >= 2 (got ${ra} and ${rb})`;
  const m = transposeA ? aShape[ra - 1] : aShape[ra - 2];
  const ka = transposeA ? aShape[ra - 2] : aShape[ra - 1];
  const kb = transposeB ? bShape[rb - 1] : bShape[rb - 2];
  const n = transposeB ? bShape[rb - 2] : bShape[rb - 1];
  if (ka !== kb) return `inner dims differ (${ka} vs ${kb})`;
  const outerA = aShape.slice(0, -2);
  const outerB = bShape.slice(0, -2);
  const outer = tf.broadcast_util.assertAndGetBroadcastShape(outerA, outerB);
  const batchA = tf.util.sizeFromShape(outerA);
  const batchB = tf.util.sizeFromShape(outerB);
  const batch = tf.util.sizeFromShape(outer);
  if (!((batchA === batch || batchA === 1) && (batchB === batch || batchB === 1))) {
    return `mixed batch broadcast ${JSON.stringify(outerA)} x ${JSON.stringify(outerB)}`;
  }
  const dims = [batchA, batchB, m, ka, n];
  if (dims.some((d) => d > 0x7fffffff) || batch * m * n > 0x7fffffff) return 'too large for int32 params';
  return {
    params: Int32Array.from([
      batchA,
      batchB,
      m,
      ka,
      n,
      transposeA ? 1 : 0,
      transposeB ? 1 : 0,
      hasBias ? 1 : 0,
      activation,
    ]),
    outShape: [...outer, m, n],
  };
}

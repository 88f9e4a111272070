import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, type Conv2d } from '@squid-ad/gan-core';
import { CriticLayerNorm } from './critic-layer-norm.js';
import { meanPool2, upsampleNearest2 } from './resample.js';
import { batchNormState, convState, layerNormState } from './tf-names.js';
import { tflibConv2d } from './tflib-init.js';

/** Layer norm in the critic (WGAN-GP), batch norm in the generator and the encoder. */
export type NormKind = 'batch' | 'layer';

/**
 * How the batch norms of a forward normalise: `batch` = this batch's statistics
 * (tf.layers `training=True`), updating the moving statistics when `update`; `running` = the
 * moving statistics (`training=False`). Layer norm ignores it.
 */
export interface NormMode {
  stats: 'batch' | 'running';
  update: boolean;
}

/**
 * tf.layers.batch_normalization defaults, which the official `my_Normalize` uses for G and E:
 * epsilon 1e-3, momentum 0.99 (PyTorch convention: 0.01); the moving variance takes the
 * Bessel-corrected batch variance (fused kernel), as gan-core's BatchNorm2d does.
 */
export const TF_LAYERS_BN = { eps: 1e-3, momentum: 0.01 } as const;

type Norm = BatchNorm2d | CriticLayerNorm;

function makeNorm(kind: NormKind, channels: number): Norm {
  return kind === 'layer'
    ? new CriticLayerNorm(channels)
    : new BatchNorm2d(channels, TF_LAYERS_BN.eps, TF_LAYERS_BN.momentum);
}

function applyNorm(norm: Norm, x: tf.Tensor4D, mode: NormMode): tf.Tensor4D {
  if (norm instanceof CriticLayerNorm) return norm.apply(x);
  return norm.apply(x, { stats: mode.stats, update: mode.stats === 'batch' && mode.update });
}

const normState = (prefix: string, norm: Norm): StateEntry[] =>
  norm instanceof CriticLayerNorm ? layerNormState(prefix, norm) : batchNormState(prefix, norm);

/**
 * The official `ResidualBlock` (wgangp_64x64.py) with `resample` 'down' or 'up', NHWC:
 * - down: shortcut = Conv1×1(mean-pool x); main = Norm, ReLU, Conv3×3 in→in (no bias), Norm,
 *   ReLU, Conv3×3 in→out, 2×2 mean pool;
 * - up: shortcut = Conv1×1(upsample x); main = Norm, ReLU, upsample, Conv3×3 in→out (no bias),
 *   Norm, ReLU, Conv3×3 out→out.
 * Output = shortcut + main. Shortcut convs Glorot-initialised, the others He (tflib).
 */
export class ResidualBlock implements Stateful {
  private readonly shortcut: Conv2d;
  private readonly norm1: Norm;
  private readonly conv1: Conv2d;
  private readonly norm2: Norm;
  private readonly conv2: Conv2d;

  constructor(
    readonly name: string,
    inChannels: number,
    outChannels: number,
    readonly resample: 'down' | 'up',
    norm: NormKind,
    rng: Rng,
  ) {
    const mid = resample === 'down' ? inChannels : outChannels;
    // Created in the official order (shortcut, BN1, Conv1, BN2, Conv2).
    this.shortcut = tflibConv2d(inChannels, outChannels, 1, { heInit: false, bias: true, rng });
    this.norm1 = makeNorm(norm, inChannels);
    this.conv1 = tflibConv2d(inChannels, mid, 3, { heInit: true, bias: false, rng });
    this.norm2 = makeNorm(norm, mid);
    this.conv2 = tflibConv2d(mid, outChannels, 3, { heInit: true, bias: true, rng });
  }

  /** `[B, H, W, in]` → `[B, H/2, W/2, out]` (down) or `[B, 2H, 2W, out]` (up). */
  apply(x: tf.Tensor4D, mode: NormMode): tf.Tensor4D {
    return tf.tidy(() => {
      const down = this.resample === 'down';
      const shortcut = this.shortcut.apply(down ? meanPool2(x) : upsampleNearest2(x));
      let h = tf.relu(applyNorm(this.norm1, x, mode));
      if (!down) h = upsampleNearest2(h);
      h = this.conv1.apply(h);
      h = tf.relu(applyNorm(this.norm2, h, mode));
      h = this.conv2.apply(h);
      if (down) h = meanPool2(h);
      return tf.add(shortcut, h);
    });
  }

  state(): StateEntry[] {
    return [
      ...convState(`${this.name}.Shortcut`, this.shortcut),
      ...normState(`${this.name}.BN1`, this.norm1),
      ...convState(`${this.name}.Conv1`, this.conv1),
      ...normState(`${this.name}.BN2`, this.norm2),
      ...convState(`${this.name}.Conv2`, this.conv2),
    ];
  }

  dispose(): void {
    for (const m of [this.shortcut, this.norm1, this.conv1, this.norm2, this.conv2]) m.dispose();
  }
}

import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, type NormStats } from './batch-norm.js';
import { Conv2d } from './conv2d.js';
import { Linear } from './linear.js';

export interface DiscriminatorOptions {
  /** Spatial size after the five stride-2 convs: `ceil(imageSize / 32)` (official `size`). */
  size: number;
  inChannels?: number;
  rng: Rng;
}

const WIDTHS = [16, 32, 64, 128, 128];

/**
 * `conv(x)` computed as `conv(x − μ) + conv(μ)`, μ the per-image channel mean. Per-image
 * BatchNorm on a near-constant image (an untrained reconstruction) divides by a tiny standard
 * deviation and magnifies float32 rounding of the large common part; centring keeps the varying
 * part exact-ish and turns the common part into a per-image constant that BN removes.
 */
function centredConv(conv: Conv2d, x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    const mu = tf.mean(x, [1, 2], true);
    const w = conv.weight as tf.Tensor4D;
    const varying = tf.conv2d(tf.sub(x, mu) as tf.Tensor4D, w, conv.stride, conv.padding);
    // μ spread over the image as 0 + μ (the same values): wasm's Tile, behind broadcastTo, took
    // 46 ns per element, 4 ms of scoring one DigitAnatomy image.
    const flat = tf.add(tf.zerosLike(x), mu) as tf.Tensor4D;
    const common = tf.conv2d(flat, w, conv.stride, conv.padding);
    const y = tf.add(varying, common);
    return (conv.bias ? tf.add(y, conv.bias) : y) as tf.Tensor4D;
  });
}

/** Spatial size the official SimpleDiscriminator reaches on `imageSize` inputs. */
export function discriminatorSize(imageSize: number): number {
  let s = imageSize;
  for (let i = 0; i < WIDTHS.length; i++) s = Math.floor((s + 2 * 2 - 5) / 2) + 1;
  return s;
}

/**
 * The official `SimpleDiscriminator`: five conv 5×5 stride 2 pad 2 (1→16→32→64→128→128), BN
 * after all but the first, LeakyReLU 0.2, flatten in C,H,W order, Linear(128·size², 1).
 * State `conv_model.{0,2,3,5,6,8,9,11,12}.*`, `regressor.*`.
 */
export class Discriminator implements Stateful {
  readonly convs: Conv2d[];
  readonly norms: BatchNorm2d[];
  readonly regressor: Linear;
  readonly size: number;

  constructor(o: DiscriminatorOptions) {
    this.size = o.size;
    let inChannels = o.inChannels ?? 1;
    this.convs = WIDTHS.map((outChannels) => {
      const conv = new Conv2d({ inChannels, outChannels, kernelSize: 5, stride: 2, padding: 2, rng: o.rng });
      inChannels = outChannels;
      return conv;
    });
    this.norms = WIDTHS.slice(1).map((c) => new BatchNorm2d(c));
    this.regressor = new Linear(128 * o.size * o.size, 1, o.rng);
  }

  /** `[B, S, S, in]` → conv features `[B, size, size, 128]` */
  features(x: tf.Tensor4D, o: { stats: NormStats }): tf.Tensor4D {
    return tf.tidy(() => {
      let h = x;
      for (let i = 0; i < this.convs.length; i++) {
        h = i > 0 && o.stats === 'per-sample' ? centredConv(this.convs[i], h) : this.convs[i].apply(h);
        if (i > 0) h = this.norms[i - 1].apply(h, o);
        h = tf.leakyRelu(h, 0.2);
      }
      if (h.shape[1] !== this.size || h.shape[2] !== this.size) {
        throw new Error(
          `Discriminator: input ${x.shape[1]}×${x.shape[2]} gives ${h.shape[1]}×${h.shape[2]} features, built for size ${this.size}`,
        );
      }
      return h;
    });
  }

  /**
   * `[B, S, S, in]` → logits `[B, 1]`. `stats`: `batch` (training; updates running stats),
   * `running` (eval), `per-sample` (each image its own batch: the official scoring).
   */
  apply(x: tf.Tensor4D, o: { stats: NormStats }): tf.Tensor2D {
    return tf.tidy(() => {
      const h = this.features(x, o);
      // The official Linear sees the NCHW flatten (C, H, W order).
      const flat = tf.transpose(h, [0, 3, 1, 2]).reshape([h.shape[0], -1]);
      return this.regressor.apply(flat) as tf.Tensor2D;
    });
  }

  state(): StateEntry[] {
    const entries: StateEntry[] = [];
    this.convs.forEach((conv, i) => {
      entries.push(...prefixState(`conv_model.${3 * i - (i > 0 ? 1 : 0)}`, conv.state()));
      if (i > 0) entries.push(...prefixState(`conv_model.${3 * i}`, this.norms[i - 1].state()));
    });
    return [...entries, ...prefixState('regressor', this.regressor.state())];
  }

  dispose(): void {
    for (const m of [...this.convs, ...this.norms, this.regressor]) m.dispose();
  }
}

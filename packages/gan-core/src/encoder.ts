import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { DoubleConv, type NormOptions } from './double-conv.js';

/** Channel widths of the SQUID U-Net levels: `f·[1, 2, 4, 8, 16, 16]`. */
export function filterList(featuresRoot: number): number[] {
  return [1, 2, 4, 8, 16, 16].map((m) => featuresRoot * m);
}

export interface EncoderOptions {
  inChannels: number;
  featuresRoot: number;
  /** Number of stride-2 down blocks (1..5). */
  level: number;
  rng: Rng;
}

/**
 * `in_conv` (double_conv in → f) followed by `level` stride-2 double_convs; the official
 * `in_conv` / `down_blocks` modules. State `in_conv.conv.*`, `down_blocks.{i}.mpconv.*`.
 */
export class Encoder implements Stateful {
  readonly inConv: DoubleConv;
  readonly downs: DoubleConv[];

  constructor(o: EncoderOptions) {
    if (!Number.isInteger(o.level) || o.level < 1 || o.level > 5) {
      throw new Error(`Encoder: level must be an integer in 1..5, got ${o.level}`);
    }
    const f = filterList(o.featuresRoot);
    this.inConv = new DoubleConv({ inChannels: o.inChannels, outChannels: f[0], rng: o.rng });
    this.downs = [];
    for (let i = 0; i < o.level; i++) {
      this.downs.push(new DoubleConv({ inChannels: f[i], outChannels: f[i + 1], stride: 2, rng: o.rng }));
    }
  }

  /**
   * `[B, H, W, in]` → the feature map entering each down block and the bottleneck:
   * `[x0 [B, H, W, f], x1 [B, H/2, W/2, 2f], …, x_level]` (the first `level` are the skips).
   */
  apply(x: tf.Tensor4D, o: NormOptions): tf.Tensor4D[] {
    return tf.tidy(() => {
      const out = [this.inConv.apply(x, o)];
      for (const down of this.downs) out.push(down.apply(out[out.length - 1], o));
      return out;
    });
  }

  state(): StateEntry[] {
    return [
      ...prefixState('in_conv.conv', this.inConv.state()),
      ...this.downs.flatMap((d, i) => prefixState(`down_blocks.${i}.mpconv`, d.state())),
    ];
  }

  dispose(): void {
    this.inConv.dispose();
    for (const d of this.downs) d.dispose();
  }
}

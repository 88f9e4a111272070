import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { DoubleConv, type NormOptions } from './double-conv.js';

/** How an up block uses its skip: `concat` stacks `[skip, upsampled]` on channels, `none` only takes its size. */
export type SkipOp = 'concat' | 'none';

export interface UpBlockOptions {
  /** Channels entering the double_conv (skip + upsampled for `concat`). */
  inChannels: number;
  outChannels: number;
  op: SkipOp;
  rng: Rng;
}

/** Bilinear resize with half-pixel centres (PyTorch `interpolate(..., align_corners=False)`). */
export function upsampleBilinear(x: tf.Tensor4D, size: [number, number]): tf.Tensor4D {
  return tf.image.resizeBilinear(x, size, false, true);
}

/**
 * The official `up` block: upsample `x` bilinearly to the skip's size, concatenate
 * `[skip, x]` (op `concat`) or use `x` alone (op `none`), then a {@link DoubleConv}. State `conv.*`.
 */
export class UpBlock implements Stateful {
  readonly conv: DoubleConv;
  readonly op: SkipOp;

  constructor(o: UpBlockOptions) {
    this.op = o.op;
    this.conv = new DoubleConv({ inChannels: o.inChannels, outChannels: o.outChannels, rng: o.rng });
  }

  /** x `[B, h, w, C]`, skip `[B, H, W, Cs]` → `[B, H, W, out]` */
  apply(x: tf.Tensor4D, skip: tf.Tensor4D, o: NormOptions): tf.Tensor4D {
    return tf.tidy(() => {
      if (skip.shape[0] !== x.shape[0]) {
        throw new Error(
          `UpBlock: skip has ${skip.shape[0]} rows but x has ${x.shape[0]} (stitch both or neither)`,
        );
      }
      const up = upsampleBilinear(x, [skip.shape[1], skip.shape[2]]);
      const joined = this.op === 'concat' ? tf.concat([skip, up], 3) : up;
      return this.conv.apply(joined, o);
    });
  }

  state(): StateEntry[] {
    return prefixState('conv', this.conv.state());
  }

  dispose(): void {
    this.conv.dispose();
  }
}

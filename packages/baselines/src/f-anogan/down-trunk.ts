import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { Conv2d } from '@squid-ad/gan-core';
import { type NormKind, type NormMode, ResidualBlock } from './residual-block.js';
import { convState } from './tf-names.js';
import { tflibConv2d } from './tflib-init.js';

/** The official side of G's output and of D's and E's input: only a 64×64 network exists. */
export const NET_SIZE = 64;

/**
 * The common body of the official critic and encoder (GoodDiscriminator, Encoder):
 * Conv3×3 1→dim (Glorot), then residual 'down' blocks dim→2dim→4dim→8dim→8dim (64→4 px), then
 * the map flattened in TF's NCHW order (C, H, W): the 8dim·4·4 feature vector f(·).
 */
export class DownTrunk implements Stateful {
  private readonly input: Conv2d;
  private readonly blocks: ResidualBlock[];

  constructor(
    readonly name: string,
    dim: number,
    norm: NormKind,
    rng: Rng,
  ) {
    this.input = tflibConv2d(1, dim, 3, { heInit: false, bias: true, rng });
    const widths = [dim, 2 * dim, 4 * dim, 8 * dim, 8 * dim];
    this.blocks = [1, 2, 3, 4].map(
      (i) => new ResidualBlock(`${name}.Res${i}`, widths[i - 1], widths[i], 'down', norm, rng),
    );
  }

  /** `[B, 64, 64, 1]` in [−1, 1] → features `[B, 8dim·16]` (NCHW flattening order). */
  apply(x: tf.Tensor4D, mode: NormMode): tf.Tensor2D {
    return tf.tidy(() => {
      let h = this.input.apply(x);
      for (const block of this.blocks) h = block.apply(h, mode);
      const [b] = h.shape;
      return tf.transpose(h, [0, 3, 1, 2]).reshape([b, -1]) as tf.Tensor2D;
    });
  }

  state(): StateEntry[] {
    return [...convState(`${this.name}.Input`, this.input), ...this.blocks.flatMap((b) => b.state())];
  }

  dispose(): void {
    this.input.dispose();
    for (const b of this.blocks) b.dispose();
  }
}

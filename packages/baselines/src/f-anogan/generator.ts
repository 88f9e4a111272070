import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, type Conv2d, type Linear } from '@squid-ad/gan-core';
import { type NormMode, ResidualBlock, TF_LAYERS_BN } from './residual-block.js';
import { batchNormState, convState, linearState } from './tf-names.js';
import { tflibConv2d, tflibLinear } from './tflib-init.js';

/**
 * The official generator G (GoodGenerator, wgangp_64x64.py): Linear zDim → 8dim·4·4, reshaped as
 * TF's NCHW `[8dim, 4, 4]`, residual 'up' blocks 8dim→8dim→4dim→2dim→dim (4→64 px), batch norm,
 * ReLU, Conv3×3 dim→1, tanh. Output `[B, 64, 64, 1]` in (−1, 1).
 */
export class Generator implements Stateful {
  private readonly input: Linear;
  private readonly blocks: ResidualBlock[];
  private readonly outputNorm: BatchNorm2d;
  private readonly output: Conv2d;

  constructor(
    readonly dim: number,
    readonly zDim: number,
    rng: Rng,
  ) {
    this.input = tflibLinear(zDim, 8 * dim * 16, rng);
    const widths = [8 * dim, 8 * dim, 4 * dim, 2 * dim, dim];
    this.blocks = [1, 2, 3, 4].map(
      (i) => new ResidualBlock(`Generator.Res${i}`, widths[i - 1], widths[i], 'up', 'batch', rng),
    );
    this.outputNorm = new BatchNorm2d(dim, TF_LAYERS_BN.eps, TF_LAYERS_BN.momentum);
    this.output = tflibConv2d(dim, 1, 3, { heInit: true, bias: true, rng });
  }

  /** G(z): `[B, zDim]` → `[B, 64, 64, 1]`. */
  apply(z: tf.Tensor2D, mode: NormMode): tf.Tensor4D {
    return tf.tidy(() => {
      const [b] = z.shape;
      let h = tf.transpose(this.input.apply(z).reshape([b, 8 * this.dim, 4, 4]), [0, 2, 3, 1]) as tf.Tensor4D;
      for (const block of this.blocks) h = block.apply(h, mode);
      h = tf.relu(
        this.outputNorm.apply(h, { stats: mode.stats, update: mode.stats === 'batch' && mode.update }),
      );
      return tf.tanh(this.output.apply(h)) as tf.Tensor4D;
    });
  }

  state(): StateEntry[] {
    return [
      ...linearState('Generator.Input', this.input),
      ...this.blocks.flatMap((b) => b.state()),
      ...batchNormState('Generator.OutputN', this.outputNorm),
      ...convState('Generator.Output', this.output),
    ];
  }

  dispose(): void {
    this.input.dispose();
    for (const b of this.blocks) b.dispose();
    this.outputNorm.dispose();
    this.output.dispose();
  }
}

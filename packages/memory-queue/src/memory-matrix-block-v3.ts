import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { z } from 'zod';
import { type BlockApplyOptions, capture, trainingRng } from './apply-options.js';
import { maskedMix } from './bernoulli-mask.js';
import { MemoryBlockConfig, parseConfig } from './config.js';
import { MemoryBank } from './memory-bank.js';

export type MemoryBlockOptions = z.input<typeof MemoryBlockConfig> & { rng: Rng };

/**
 * Space-aware decoder memory, one learned memory per patch position (official
 * `MemoryMatrixBlockV3`, DigitAnatomy preset): each patch's `h×w×C` feature map is one query,
 * flattened in PyTorch's (C, H, W) order; patch row `b·N + r` reads memory r. Eval replaces the
 * input by the memory read-out; training keeps it per location with probability `ratio`.
 */
export class MemoryMatrixBlockV3 implements Stateful {
  readonly config: z.infer<typeof MemoryBlockConfig>;
  /** Slot size `C·h·w`. */
  readonly dim: number;
  private readonly bank: MemoryBank;

  constructor(options: MemoryBlockOptions) {
    this.config = parseConfig(MemoryBlockConfig, options, 'MemoryMatrixBlockV3');
    const { numMemory, slots, channels, height, width, shrink, shared } = this.config;
    this.dim = channels * height * width;
    this.bank = new MemoryBank(shared ? 1 : numMemory, slots, this.dim, shrink, options.rng);
  }

  /**
   * `x [B·N, h, w, C]` (NHWC, rows `b·N + r`) → same shape. Captures `attention` `[B, N, slots]`.
   */
  apply(x: tf.Tensor4D, options: BlockApplyOptions): tf.Tensor4D {
    const { numMemory: n, channels: c, height: h, width: w, ratio } = this.config;
    const [rows, xh, xw, xc] = x.shape;
    if (xh !== h || xw !== w || xc !== c || rows % n !== 0) {
      throw new Error(
        `MemoryMatrixBlockV3.apply: expected [B·${n}, ${h}, ${w}, ${c}], got [${x.shape}] (rows must be a multiple of ${n})`,
      );
    }
    const rng = options.training ? trainingRng('MemoryMatrixBlockV3', options) : undefined;
    const b = rows / n;
    return tf.tidy(() => {
      // NHWC → NCHW before flattening, so each vector is in the official (C, H, W) order.
      const queries = tf
        .transpose(x, [0, 3, 1, 2])
        .reshape([b, n, this.dim])
        .transpose([1, 0, 2]) as tf.Tensor3D;
      const { out, attention } = this.bank.read(queries);
      capture(options, 'attention', () => tf.transpose(attention, [1, 0, 2]));
      const y = out.transpose([1, 0, 2]).reshape([rows, c, h, w]).transpose([0, 2, 3, 1]) as tf.Tensor4D;
      return rng ? maskedMix(y, x, ratio, rng, options.masks) : y;
    });
  }

  /** `memory.{r}.memMatrix` */
  state(): StateEntry[] {
    return this.bank.state();
  }

  dispose(): void {
    this.bank.dispose();
  }
}

import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { z } from 'zod';
import { type BlockApplyOptions, capture, trainingRng } from './apply-options.js';
import { maskedMix } from './bernoulli-mask.js';
import { MemoryBlockConfig, parseConfig } from './config.js';
import { MemoryBank } from './memory-bank.js';
import type { MemoryBlockOptions } from './memory-matrix-block-v3.js';

/**
 * Space-aware decoder memory over windows (official `MemoryMatrixBlock`, chest presets): every
 * row's `h×w` map is cut into `√N × √N` windows (row-major), window r is flattened in (H, W, C)
 * order and reads memory r. Works on any number of rows (whole images or patches). Eval replaces
 * the input by the memory read-out; training keeps it per location with probability `ratio`.
 */
export class MemoryMatrixBlock implements Stateful {
  readonly config: z.infer<typeof MemoryBlockConfig>;
  /** Windows per side √N. */
  readonly grid: number;
  /** Window size `h / √N`. */
  readonly window: number;
  /** Slot size `window²·C`. */
  readonly dim: number;
  private readonly bank: MemoryBank;

  constructor(options: MemoryBlockOptions) {
    this.config = parseConfig(MemoryBlockConfig, options, 'MemoryMatrixBlock');
    const { numMemory, slots, channels, height, width, shrink, shared } = this.config;
    this.grid = Math.round(Math.sqrt(numMemory));
    if (this.grid * this.grid !== numMemory) {
      throw new Error(`MemoryMatrixBlock: numMemory must be a square (windows per side²), got ${numMemory}`);
    }
    // The official code derives the window size from the height only: floor(h / √N).
    this.window = Math.floor(height / this.grid);
    if (this.window * this.grid !== height || this.window * this.grid !== width) {
      throw new Error(
        `MemoryMatrixBlock: a ${height}×${width} map cannot be cut into ${this.grid}×${this.grid} equal square windows`,
      );
    }
    this.dim = this.window * this.window * channels;
    this.bank = new MemoryBank(shared ? 1 : numMemory, slots, this.dim, shrink, options.rng);
  }

  /** `x [B, h, w, C]` (NHWC) → same shape. Captures `attention` `[B, N, slots]`. */
  apply(x: tf.Tensor4D, options: BlockApplyOptions): tf.Tensor4D {
    const { numMemory: n, channels: c, height: h, width: w, ratio } = this.config;
    const [rows, xh, xw, xc] = x.shape;
    if (xh !== h || xw !== w || xc !== c) {
      throw new Error(`MemoryMatrixBlock.apply: expected [B, ${h}, ${w}, ${c}], got [${x.shape}]`);
    }
    const rng = options.training ? trainingRng('MemoryMatrixBlock', options) : undefined;
    const p = this.grid;
    const ws = this.window;
    return tf.tidy(() => {
      // [B, p·ws, p·ws, C] → [B·p, ws, p, ws·C] → [B·p, p, ws, ws·C]: window (i, j) flattened H, W, C.
      const windows = x
        .reshape([rows * p, ws, p, ws * c])
        .transpose([0, 2, 1, 3])
        .reshape([rows, n, this.dim])
        .transpose([1, 0, 2]) as tf.Tensor3D;
      const { out, attention } = this.bank.read(windows);
      capture(options, 'attention', () => tf.transpose(attention, [1, 0, 2]));
      const y = out
        .transpose([1, 0, 2])
        .reshape([rows * p, p, ws, ws * c])
        .transpose([0, 2, 1, 3])
        .reshape([rows, h, w, c]) as tf.Tensor4D;
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

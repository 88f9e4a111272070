import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { Linear } from '@squid-ad/gan-core';
import { DownTrunk } from './down-trunk.js';
import type { NormMode } from './residual-block.js';
import { linearState } from './tf-names.js';
import { tflibLinear } from './tflib-init.js';

/**
 * The official izi_f encoder E (z_encoding_izif.py, Z_REG_TYPE 'tanh_fc', "paper version"): the
 * critic's topology with batch norm, then Linear 8dim·16 → zDim and tanh.
 */
export class Encoder implements Stateful {
  private readonly trunk: DownTrunk;
  private readonly output: Linear;

  constructor(dim: number, zDim: number, rng: Rng) {
    this.trunk = new DownTrunk('Encoder', dim, 'batch', rng);
    this.output = tflibLinear(8 * dim * 16, zDim, rng);
  }

  /** z = E(x): `[B, 64, 64, 1]` in [−1, 1] → `[B, zDim]` in (−1, 1). */
  apply(x: tf.Tensor4D, mode: NormMode): tf.Tensor2D {
    return tf.tidy(() => tf.tanh(this.output.apply(this.trunk.apply(x, mode))) as tf.Tensor2D);
  }

  state(): StateEntry[] {
    return [...this.trunk.state(), ...linearState('Encoder.Output', this.output)];
  }

  dispose(): void {
    this.trunk.dispose();
    this.output.dispose();
  }
}

import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import type { Linear } from '@squid-ad/gan-core';
import { DownTrunk } from './down-trunk.js';
import { linearState } from './tf-names.js';
import { tflibLinear } from './tflib-init.js';

/** The critic's layer norms take no batch statistics: any mode does. */
const LAYER_NORM_MODE = { stats: 'running', update: false } as const;

/**
 * The official WGAN-GP critic D (GoodDiscriminator): {@link DownTrunk} with layer norm, then
 * Linear 8dim·16 → 1 with no sigmoid. Its features f(·) (the flattened 4×4 map, no activation)
 * enter the izi_f loss and the anomaly score. Every op acts on each sample alone.
 */
export class Critic implements Stateful {
  private readonly trunk: DownTrunk;
  private readonly output: Linear;

  constructor(dim: number, rng: Rng) {
    this.trunk = new DownTrunk('Discriminator', dim, 'layer', rng);
    this.output = tflibLinear(8 * dim * 16, 1, rng);
  }

  /** f(x): `[B, 64, 64, 1]` → `[B, 8dim·16]`. */
  features(x: tf.Tensor4D): tf.Tensor2D {
    return this.trunk.apply(x, LAYER_NORM_MODE);
  }

  /** D(x): `[B, 64, 64, 1]` → `[B]`. */
  apply(x: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => this.output.apply(this.features(x)).reshape([-1]) as tf.Tensor1D);
  }

  state(): StateEntry[] {
    return [...this.trunk.state(), ...linearState('Discriminator.Output', this.output)];
  }

  dispose(): void {
    this.trunk.dispose();
    this.output.dispose();
  }
}

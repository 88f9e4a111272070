import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';

/**
 * tflib's Layernorm as the f-AnoGAN critic uses it (`Layernorm(name, [1,2,3], x)` on NCHW):
 * each sample normalised over all of its C·H·W values (biased variance, eps 1e-5), then a
 * per-channel scale and offset; `tf.nn.batch_normalization`'s arithmetic
 * `x·inv + (offset − mean·inv)`, inv = scale/√(var + eps). Plain ops, so twice differentiable.
 */
export class CriticLayerNorm implements Stateful {
  readonly offset: tf.Variable;
  readonly scale: tf.Variable;

  constructor(
    channels: number,
    readonly eps = 1e-5,
  ) {
    this.offset = tf.tidy(() => tf.variable(tf.zeros([channels])));
    this.scale = tf.tidy(() => tf.variable(tf.ones([channels])));
  }

  /** `[B, H, W, C]` → same shape; each sample on its own. */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, [1, 2, 3], true);
      const inv = tf.mul(tf.rsqrt(tf.add(variance, this.eps)), this.scale); // [B,1,1,C]
      return tf.add(tf.mul(x, inv), tf.sub(this.offset, tf.mul(mean, inv))) as tf.Tensor4D;
    });
  }

  /** tflib's parameter names. */
  state(): StateEntry[] {
    return [
      { name: 'offset', variable: this.offset, kind: 'parameter', layout: 'raw' },
      { name: 'scale', variable: this.scale, kind: 'parameter', layout: 'raw' },
    ];
  }

  dispose(): void {
    this.offset.dispose();
    this.scale.dispose();
  }
}

import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';

/**
 * tflib's Layernorm as the f-AnoGAN critic uses it (`Layernorm(name, [1,2,3], x)` on NCHW):
 * each sample normalised over all of its C·H·W values (biased variance, eps 1e-5), then a
 * per-channel scale and offset. Plain ops, so twice differentiable (the gradient penalty).
 * The per-sample sums and their spreading back over the sample are products with a ones
 * vector: tfjs's mean and its gradient, and any [B,1,1,1]-against-[B,H,W,C] broadcast, take
 * the cpu backend's per-element index path (~40× a plain loop; 3 s of a tiny training step).
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
      const [b, h, w, c] = x.shape;
      const n = h * w * c;
      const flat = x.reshape([b, n]);
      const column = tf.ones([n, 1]);
      const row = tf.ones([1, n]);
      const perSample = (t: tf.Tensor) => tf.div(tf.matMul(t as tf.Tensor2D, column), n); // [B, 1]
      const spread = (t: tf.Tensor) => tf.matMul(t as tf.Tensor2D, row); // [B, N]
      const centred = tf.sub(flat, spread(perSample(flat)));
      const r = tf.rsqrt(tf.add(perSample(tf.square(centred)), this.eps));
      const normed = tf.mul(centred, spread(r)).reshape([b, h, w, c]);
      return tf.add(tf.mul(normed, this.scale), this.offset) as tf.Tensor4D;
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

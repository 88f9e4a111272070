import { type StateEntry, type Stateful, tf } from '@squid-ad/backend';

/** LayerNorm over the last axis, as PyTorch's `nn.LayerNorm(dim)` (biased variance, eps inside the sqrt). */
export class LayerNorm implements Stateful {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;

  constructor(
    dim: number,
    readonly eps = 1e-5,
  ) {
    this.weight = tf.tidy(() => tf.variable(tf.ones([dim])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([dim])));
  }

  /** `[..., dim]` → same shape */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const { mean, variance } = tf.moments(x, -1, true);
      const normed = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, this.eps)));
      return tf.add(tf.mul(normed, this.weight), this.bias);
    });
  }

  state(): StateEntry[] {
    return [
      { name: 'weight', variable: this.weight, kind: 'parameter', layout: 'raw' },
      { name: 'bias', variable: this.bias, kind: 'parameter', layout: 'raw' },
    ];
  }

  dispose(): void {
    this.weight.dispose();
    this.bias.dispose();
  }
}

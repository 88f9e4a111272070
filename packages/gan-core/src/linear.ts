import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { pytorchUniform } from './init.js';

/** A fully connected layer `y = x·W + b` with PyTorch initialisation; W stored `[in, out]`. */
export class Linear implements Stateful {
  /** `[in, out]` */
  readonly weight: tf.Variable;
  /** `[out]` */
  readonly bias?: tf.Variable;

  constructor(inFeatures: number, outFeatures: number, rng: Rng, options: { bias?: boolean } = {}) {
    this.weight = tf.tidy(() => tf.variable(pytorchUniform([inFeatures, outFeatures], inFeatures, rng)));
    if (options.bias ?? true)
      this.bias = tf.tidy(() => tf.variable(pytorchUniform([outFeatures], inFeatures, rng)));
  }

  /** `[..., in]` → `[..., out]` */
  apply(x: tf.Tensor): tf.Tensor {
    return tf.tidy(() => {
      const [inF, outF] = this.weight.shape;
      const flat = x.reshape([-1, inF]);
      let y: tf.Tensor = tf.matMul(flat, this.weight as tf.Tensor2D);
      if (this.bias) y = tf.add(y, this.bias);
      return y.reshape([...x.shape.slice(0, -1), outF]);
    });
  }

  state(): StateEntry[] {
    const entries: StateEntry[] = [
      { name: 'weight', variable: this.weight, kind: 'parameter', layout: 'linear' },
    ];
    if (this.bias) entries.push({ name: 'bias', variable: this.bias, kind: 'parameter', layout: 'raw' });
    return entries;
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}

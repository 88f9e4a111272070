import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { addChannelBias } from './channel-reduce.js';
import { pytorchUniform } from './init.js';

export interface Conv2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  /** Zero padding on every side, as PyTorch's `padding=p` (also for stride 2, unlike TF's 'same'). */
  padding?: number;
  bias?: boolean;
  rng: Rng;
}

/** A 2-D convolution with PyTorch semantics on NHWC tensors; weights stored HWIO. */
export class Conv2d implements Stateful {
  /** `[kH, kW, in, out]` */
  readonly weight: tf.Variable;
  /** `[out]` */
  readonly bias?: tf.Variable;
  readonly stride: number;
  readonly padding: number;

  constructor(o: Conv2dOptions) {
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    const fanIn = o.inChannels * o.kernelSize * o.kernelSize;
    this.weight = tf.tidy(() =>
      tf.variable(pytorchUniform([o.kernelSize, o.kernelSize, o.inChannels, o.outChannels], fanIn, o.rng)),
    );
    if (o.bias ?? true) this.bias = tf.tidy(() => tf.variable(pytorchUniform([o.outChannels], fanIn, o.rng)));
  }

  /** `[B, H, W, in]` → `[B, H', W', out]` */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      // A numeric pad is symmetric in tfjs (PyTorch-style), whatever the stride.
      const y = tf.conv2d(x, this.weight as tf.Tensor4D, this.stride, this.padding);
      return this.bias ? addChannelBias(y, this.bias) : y;
    });
  }

  state(): StateEntry[] {
    const entries: StateEntry[] = [
      { name: 'weight', variable: this.weight, kind: 'parameter', layout: 'conv' },
    ];
    if (this.bias) entries.push({ name: 'bias', variable: this.bias, kind: 'parameter', layout: 'raw' });
    return entries;
  }

  dispose(): void {
    this.weight.dispose();
    this.bias?.dispose();
  }
}

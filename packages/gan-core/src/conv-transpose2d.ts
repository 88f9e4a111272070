import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { addChannelBias } from './channel-reduce.js';
import { pytorchUniform } from './init.js';

export interface ConvTranspose2dOptions {
  inChannels: number;
  outChannels: number;
  kernelSize: number;
  stride?: number;
  /** PyTorch's `padding`: rows/columns cut from each side of the full transposed output. */
  padding?: number;
  /** PyTorch's `output_padding`: extra rows/columns kept at the bottom/right. */
  outputPadding?: number;
  bias?: boolean;
  rng: Rng;
}

/**
 * A 2-D transposed convolution with PyTorch semantics on NHWC tensors: output side
 * `(H − 1)·stride − 2·padding + kernel + outputPadding`. Weights stored `[kH, kW, out, in]`
 * (what `tf.conv2dTranspose` takes; the official `[in, out, kH, kW]` is the `conv` layout's transpose).
 */
export class ConvTranspose2d implements Stateful {
  /** `[kH, kW, out, in]` */
  readonly weight: tf.Variable;
  /** `[out]` */
  readonly bias?: tf.Variable;
  readonly stride: number;
  readonly padding: number;
  readonly outputPadding: number;
  readonly kernelSize: number;
  readonly outChannels: number;

  constructor(o: ConvTranspose2dOptions) {
    this.stride = o.stride ?? 1;
    this.padding = o.padding ?? 0;
    this.outputPadding = o.outputPadding ?? 0;
    this.kernelSize = o.kernelSize;
    this.outChannels = o.outChannels;
    if (this.outputPadding >= this.stride && this.outputPadding > 0)
      throw new Error(
        `ConvTranspose2d: outputPadding ${this.outputPadding} must be smaller than stride ${this.stride}`,
      );
    // PyTorch computes fan_in from weight.size(1) · k² = out · k² for a transposed convolution.
    const fanIn = o.outChannels * o.kernelSize * o.kernelSize;
    this.weight = tf.tidy(() =>
      tf.variable(pytorchUniform([o.kernelSize, o.kernelSize, o.outChannels, o.inChannels], fanIn, o.rng)),
    );
    if (o.bias ?? true) this.bias = tf.tidy(() => tf.variable(pytorchUniform([o.outChannels], fanIn, o.rng)));
  }

  /** `[B, H, W, in]` → `[B, H', W', out]` */
  apply(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => {
      const [b, h, w] = x.shape;
      const k = this.kernelSize;
      const s = this.stride;
      const p = this.padding;
      const op = this.outputPadding;
      // The full ('valid') transposed output, then PyTorch's crop: p from the top/left, and
      // p − outputPadding from the bottom/right. When outputPadding exceeds p the full output is
      // one short: the extra rows of PyTorch's output get no input contribution (zero before bias).
      const fullH = (h - 1) * s + k;
      const fullW = (w - 1) * s + k;
      let y = tf.conv2dTranspose(
        x,
        this.weight as tf.Tensor4D,
        [b, fullH, fullW, this.outChannels],
        s,
        'valid',
      );
      const outH = fullH - 2 * p + op;
      const outW = fullW - 2 * p + op;
      const extra = Math.max(0, p + outH - fullH);
      if (extra > 0)
        y = tf.pad(y, [
          [0, 0],
          [0, extra],
          [0, extra],
          [0, 0],
        ]);
      y = tf.slice(y, [0, p, p, 0], [b, outH, outW, this.outChannels]);
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

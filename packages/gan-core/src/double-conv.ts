import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, type BatchNormApplyOptions, type NormStats } from './batch-norm.js';
import { Conv2d } from './conv2d.js';

export interface DoubleConvOptions {
  inChannels: number;
  outChannels: number;
  /** Stride of the first conv (2 in down blocks). */
  stride?: number;
  rng: Rng;
}

/** How a block normalises: BatchNorm statistics to use (see {@link NormStats}). */
export interface NormOptions {
  stats: NormStats;
  /** Running-statistics updates per BatchNorm with `batch` statistics (see {@link BatchNormApplyOptions}). */
  update?: boolean | number;
}

/**
 * The residual `double_conv` block of the official SQUID code:
 * `a = ReLU(BN(conv3×3_s(x)))`, `b = BN(conv3×3(ReLU(BN(conv3×3(a)))))`, output `ReLU(a + b)`.
 * State names follow the official Sequentials: `conv1.{0,1}`, `conv2.{0,1,3,4}`.
 */
export class DoubleConv implements Stateful {
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  readonly conv2a: Conv2d;
  readonly bn2a: BatchNorm2d;
  readonly conv2b: Conv2d;
  readonly bn2b: BatchNorm2d;

  constructor(o: DoubleConvOptions) {
    const { inChannels, outChannels, rng } = o;
    this.conv1 = new Conv2d({
      inChannels,
      outChannels,
      kernelSize: 3,
      stride: o.stride ?? 1,
      padding: 1,
      rng,
    });
    this.bn1 = new BatchNorm2d(outChannels);
    this.conv2a = new Conv2d({ inChannels: outChannels, outChannels, kernelSize: 3, padding: 1, rng });
    this.bn2a = new BatchNorm2d(outChannels);
    this.conv2b = new Conv2d({ inChannels: outChannels, outChannels, kernelSize: 3, padding: 1, rng });
    this.bn2b = new BatchNorm2d(outChannels);
  }

  /** `[B, H, W, in]` → `[B, H/stride, W/stride, out]` */
  apply(x: tf.Tensor4D, o: NormOptions): tf.Tensor4D {
    if (o.stats === 'running') {
      return tf.tidy(() => {
        const a = convBatchNormEval(x, this.conv1, this.bn1, true);
        const h = convBatchNormEval(a, this.conv2a, this.bn2a, true);
        return tf.relu(tf.add(a, convBatchNormEval(h, this.conv2b, this.bn2b, false))) as tf.Tensor4D;
      });
    }
    return tf.tidy(() => {
      const a = this.bn1.apply(this.conv1.apply(x), { ...o, relu: true });
      const h = this.bn2a.apply(this.conv2a.apply(a), { ...o, relu: true });
      const b = this.bn2b.apply(this.conv2b.apply(h), o);
      return addRelu(a, b);
    });
  }

  state(): StateEntry[] {
    return [
      ...prefixState('conv1.0', this.conv1.state()),
      ...prefixState('conv1.1', this.bn1.state()),
      ...prefixState('conv2.0', this.conv2a.state()),
      ...prefixState('conv2.1', this.bn2a.state()),
      ...prefixState('conv2.3', this.conv2b.state()),
      ...prefixState('conv2.4', this.bn2b.state()),
    ];
  }

  dispose(): void {
    for (const m of [this.conv1, this.bn1, this.conv2a, this.bn2a, this.conv2b, this.bn2b]) m.dispose();
  }
}

/** `ReLU(a + b)` saving only its output for backprop (the next layer keeps it anyway). */
function addRelu(a: tf.Tensor4D, b: tf.Tensor4D): tf.Tensor4D {
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [x, y, save] = args as [tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const value = tf.relu(tf.add(x, y));
    save([value]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const d = tf.mul(dy, tf.step(saved[0]));
        return [d, d.clone()];
      },
    };
  });
  return op(a, b) as tf.Tensor4D;
}

/**
 * `BN(conv(x))` with running statistics, optionally ReLU'd. Where one sample's activation is
 * larger than the filter, as one fused convolution: the BN is an affine map per output channel,
 * folded into the filter and bias (`s = γ/√(var + eps)`, `W' = W·s`, `b' = (b − mean)·s + β`),
 * which saves ~4 elementwise passes over the activation for one over the filter. Equal to the
 * unfolded layers up to float rounding (~1e-7 relative per layer), so the choice looks at one
 * sample, never the batch size: a sample's output must not depend on how many share the batch
 * (batched scoring equals per-image scoring bit for bit). Folding is redone per call because
 * the optimizer may update weights in place.
 */
function convBatchNormEval(x: tf.Tensor4D, conv: Conv2d, bn: BatchNorm2d, relu: boolean): tf.Tensor4D {
  const [kh, kw, cin] = conv.weight.shape;
  const outPixels = (x.shape[1] * x.shape[2]) / (conv.stride * conv.stride);
  if (kh * kw * cin > 4 * outPixels) return bn.apply(conv.apply(x), { stats: 'running', relu });
  return tf.tidy(() => {
    const scale = tf.mul(tf.rsqrt(tf.add(bn.runningVar, bn.eps)), bn.weight);
    const shifted = conv.bias ? tf.sub(conv.bias, bn.runningMean) : tf.neg(bn.runningMean);
    return tf.fused.conv2d({
      x,
      filter: tf.mul(conv.weight, scale) as tf.Tensor4D,
      strides: conv.stride,
      pad: conv.padding,
      bias: tf.add(tf.mul(shifted, scale), bn.bias),
      activation: relu ? 'relu' : 'linear',
    });
  });
}

import {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type StateEntry,
  type Stateful,
  stopGradient,
  tf,
} from '@squid-ad/backend';
import { channelSum } from './channel-reduce.js';

/**
 * Which statistics normalise the input:
 * - `batch`: mean/variance of this batch (PyTorch train mode); updates the running statistics;
 * - `running`: the running statistics (PyTorch eval mode);
 * - `per-sample`: each sample's own statistics, as PyTorch train mode with batch size 1 — what
 *   the official scoring computed, calling the discriminator one image at a time; no update.
 */
export type NormStats = 'batch' | 'running' | 'per-sample';

export interface BatchNormApplyOptions {
  stats: NormStats;
  /**
   * Running-statistics updates from this batch (`batch` only): true or 1 (default) one, false or
   * 0 none, k > 1 the k updates of k passes over the same batch (a trainer that reuses one
   * forward where the official schedule ran two).
   */
  update?: boolean | number;
  /** Apply ReLU to the result (fused with batch statistics: one saved tensor fewer for backprop). */
  relu?: boolean;
}

/** PyTorch `BatchNorm2d` on NHWC tensors: momentum 0.1, eps 1e-5, unbiased running variance. */
export class BatchNorm2d implements Stateful {
  readonly weight: tf.Variable;
  readonly bias: tf.Variable;
  readonly runningMean: tf.Variable;
  readonly runningVar: tf.Variable;
  /** int32 scalar; int64 in PyTorch. */
  readonly numBatchesTracked: tf.Variable;

  constructor(
    readonly channels: number,
    readonly eps = 1e-5,
    readonly momentum = 0.1,
  ) {
    this.weight = tf.tidy(() => tf.variable(tf.ones([channels])));
    this.bias = tf.tidy(() => tf.variable(tf.zeros([channels])));
    this.runningMean = tf.tidy(() => tf.variable(tf.zeros([channels]), false));
    this.runningVar = tf.tidy(() => tf.variable(tf.ones([channels]), false));
    this.numBatchesTracked = tf.tidy(() => tf.variable(tf.scalar(0, 'int32'), false));
  }

  /** `[B, H, W, C]` → same shape */
  apply(x: tf.Tensor4D, options: BatchNormApplyOptions): tf.Tensor4D {
    const { stats } = options;
    return tf.tidy(() => {
      let mean: tf.Tensor;
      let variance: tf.Tensor;
      if (stats === 'running') {
        mean = this.runningMean;
        variance = this.runningVar;
      } else if (stats === 'batch') {
        const updates = Number(options.update ?? true);
        return batchNormTrain(x, this.weight, this.bias, this.eps, options.relu ?? false, (m, v) => {
          if (updates > 0) this.updateRunning(x, m, v, updates);
        });
      } else {
        ({ mean, variance } = tf.moments(x, [1, 2], true));
      }
      const scale = tf.mul(tf.rsqrt(tf.add(variance, this.eps)), this.weight);
      const y = tf.add(tf.mul(tf.sub(x, mean), scale), this.bias) as tf.Tensor4D;
      return options.relu ? tf.relu(y) : y;
    });
  }

  private updateRunning(x: tf.Tensor4D, mean: tf.Tensor, variance: tf.Tensor, updates: number): void {
    const n = x.shape[0] * x.shape[1] * x.shape[2];
    const m = this.momentum;
    // PyTorch normalises with the biased variance but tracks the unbiased one.
    const unbiased = tf.mul(stopGradient(variance), n / Math.max(n - 1, 1)).reshape([this.channels]);
    const batchMean = stopGradient(mean).reshape([this.channels]);
    for (let k = 0; k < updates; k++) {
      this.runningMean.assign(tf.add(tf.mul(this.runningMean, 1 - m), tf.mul(batchMean, m)));
      this.runningVar.assign(tf.add(tf.mul(this.runningVar, 1 - m), tf.mul(unbiased, m)));
    }
    this.numBatchesTracked.assign(tf.add(this.numBatchesTracked, tf.scalar(updates, 'int32')));
  }

  state(): StateEntry[] {
    return [
      { name: 'weight', variable: this.weight, kind: 'parameter', layout: 'raw' },
      { name: 'bias', variable: this.bias, kind: 'parameter', layout: 'raw' },
      { name: 'running_mean', variable: this.runningMean, kind: 'buffer', layout: 'raw' },
      { name: 'running_var', variable: this.runningVar, kind: 'buffer', layout: 'raw' },
      { name: 'num_batches_tracked', variable: this.numBatchesTracked, kind: 'buffer', layout: 'raw' },
    ];
  }

  dispose(): void {
    for (const e of this.state()) e.variable.dispose();
  }
}

/**
 * Batch-statistics BatchNorm `γ·(x − μ)·r + β` (`r = 1/√(σ² + eps)`) as one op with the
 * closed-form gradient through μ and σ², every reduction a {@link channelSum}. Being one op,
 * its internals stay off the gradient tape: it keeps only x̂ for the backward pass (autodiff
 * kept ~7 tensors the size of x per BatchNorm). `onStats` receives μ and the biased σ².
 */
function batchNormTrain(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  relu: boolean,
  onStats: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor4D {
  if (tf.getKernel(BATCH_NORM_TRAIN, tf.getBackend()))
    return batchNormTrainFused(x, gamma, beta, eps, relu, onStats);
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b, save] = args as [tf.Tensor4D, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const n = xs.size / xs.shape[3];
    const mean = tf.div(channelSum(xs), n);
    const centred = tf.sub(xs, mean);
    const variance = tf.div(channelSum(tf.square(centred)), n);
    onStats(mean, variance);
    const r = tf.rsqrt(tf.add(variance, eps));
    const xhat = tf.mul(centred, r);
    const normed = tf.add(tf.mul(xhat, g), b);
    const value = relu ? tf.relu(normed) : normed;
    // With ReLU the output is saved: it is the next conv's saved input anyway.
    save(relu ? [xhat, r, g, value] : [xhat, r, g]);
    return {
      value,
      gradFunc: (dyOut: tf.Tensor, saved: tf.Tensor[]) => {
        const [xh, rs, gm, y] = saved;
        const dy = y ? tf.mul(dyOut, tf.step(y)) : dyOut;
        const dBeta = channelSum(dy);
        const dGamma = channelSum(tf.mul(dy, xh));
        // dx = γ·r/n · (n·dy − Σdy − x̂·Σ(dy·x̂))
        const inner = tf.sub(tf.sub(tf.mul(dy, n), dBeta), tf.mul(xh, dGamma));
        return [tf.mul(inner, tf.div(tf.mul(gm, rs), n)), dGamma, dBeta];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

/**
 * {@link batchNormTrain} through the fused kernels `@squid-ad/backend-onednn` registers (oneDNN's
 * batch_normalization forward, the addon's own two-pass backward): one pass for the statistics
 * and one for the output instead of ~8 elementwise kernels, and likewise backward. It keeps x
 * (instead of x̂) for the backward pass. The kernels sum in their own order: results agree with
 * the composite within 1e-4 relative (tested), not bitwise.
 */
function batchNormTrainFused(
  x: tf.Tensor4D,
  gamma: tf.Tensor,
  beta: tf.Tensor,
  eps: number,
  relu: boolean,
  onStats: (mean: tf.Tensor, variance: tf.Tensor) => void,
): tf.Tensor4D {
  const engine = tf.engine();
  const op = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [xs, g, b, save] = args as [tf.Tensor4D, tf.Tensor, tf.Tensor, tf.GradSaveFunc];
    const [value, mean, variance] = engine.runKernel(BATCH_NORM_TRAIN, { x: xs, gamma: g, beta: b }, {
      eps,
      relu,
    } as unknown as tf.NamedAttrMap) as tf.Tensor[];
    onStats(mean, variance);
    save(relu ? [xs, g, b, mean, variance, value] : [xs, g, b, mean, variance]);
    return {
      value,
      gradFunc: (dy: tf.Tensor, saved: tf.Tensor[]) => {
        const [xSaved, gm, bt, m, v, y] = saved;
        const inputs: tf.NamedTensorMap = { x: xSaved, dy, gamma: gm, beta: bt, mean: m, variance: v };
        if (y) inputs.y = y;
        return engine.runKernel(BATCH_NORM_TRAIN_GRAD, inputs, {
          eps,
        } as unknown as tf.NamedAttrMap) as tf.Tensor[];
      },
    };
  });
  return op(x, gamma, beta) as tf.Tensor4D;
}

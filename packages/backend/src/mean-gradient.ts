// The gradient of a mean over every element (a loss: MSE, BCE), without TF.js's ones tensor.
//
// Why: TF.js's `Mean` gradient is `(reshape(dy, [1, …, 1]) · ones(x.shape)) / n`: the ones are a
// fresh tensor filled in JavaScript, and on wasm also copied into the heap on first use, which
// the profile books to the multiply (10 ms for one [144, 8, 8, 128] feature map of SQUID's
// distillation loss; the multiply itself is ~2.4 ms, as with a scalar). Every element of that
// gradient is the same number, dy / n, so spreading that scalar as `0 + dy / n` gives the same
// values (up to the sign of a zero) without the ones tensor.
// A mean over some axes keeps TF.js's own gradient.
import * as tfjs from '@tensorflow/tfjs';

let stock: tfjs.GradConfig | undefined;

/** The gradient of `Mean` over all of `x`'s axes: dy / n at every element. */
const gradFunc: tfjs.GradFunc = (dy, saved, attrs) => {
  const [x] = saved;
  const axes = tfjs.util.parseAxisParam((attrs as { axis: number | number[] }).axis, x.shape);
  if (axes.length < x.rank) return (stock as tfjs.GradConfig).gradFunc(dy, saved, attrs);
  return {
    x: () => tfjs.add(tfjs.zerosLike(x), tfjs.div(tfjs.reshape(dy as tfjs.Tensor, []), x.size)),
  };
};

/** Registers the scalar-spreading `Mean` gradient; idempotent. */
export function installMeanGradient(): void {
  if (stock) return;
  stock = tfjs.getGradient(tfjs.Mean);
  if (!stock) return;
  tfjs.registerGradient({ ...stock, gradFunc });
}

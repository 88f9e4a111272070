import { BATCH_NORM_TRAIN, BATCH_NORM_TRAIN_GRAD, type tf } from '@squid-ad/backend';
import type { OneDnnAddon } from './addon.js';
import { dataAccess, type NativeBackendName } from './kernels.js';

type TensorInfo = tf.TensorInfo;

/** [N, H, W, C] of a rank-4 float32 tensor, or why the kernel cannot take it. */
function nhwc(x: TensorInfo): number[] {
  if (x.dtype !== 'float32' || x.shape.length !== 4) {
    throw new Error(
      `${BATCH_NORM_TRAIN}: expected a float32 [N, H, W, C] tensor, got ${x.dtype} [${x.shape}]`,
    );
  }
  return x.shape;
}

/**
 * The fused training-mode BatchNorm kernels (`BATCH_NORM_TRAIN` and its gradient, see
 * `@squid-ad/backend`) on `backendName`, running oneDNN's batch_normalization on the backend's
 * own buffers. They add kernels rather than replace any: without them, callers use TF.js ops.
 */
export function batchNormKernelConfigs(
  addon: OneDnnAddon,
  backendName: NativeBackendName,
): tf.KernelConfig[] {
  const forward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const { x, gamma, beta } = inputs as Record<string, TensorInfo>;
    const [n, h, w, c] = nhwc(x);
    const { eps, relu } = attrs as unknown as { eps: number; relu: boolean };
    const access = dataAccess(backendName, backend);
    // Allocate first: a wasm allocation may grow (and replace) the heap that views point into.
    const y = access.alloc(x.shape);
    const mean = access.alloc([c]);
    const variance = access.alloc([c]);
    const v = access.view;
    addon.batchNormForward!(
      v(x),
      v(gamma),
      v(beta),
      v(y),
      v(mean),
      v(variance),
      Int32Array.of(n, h, w, c, relu ? 1 : 0),
      eps,
    );
    return [y, mean, variance];
  };
  const backward: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const { x, dy, gamma, beta, mean, variance, y } = inputs as Record<string, TensorInfo | undefined>;
    const [n, h, w, c] = nhwc(x!);
    const { eps } = attrs as unknown as { eps: number };
    const access = dataAccess(backendName, backend);
    const dx = access.alloc(x!.shape);
    const dgamma = access.alloc([c]);
    const dbeta = access.alloc([c]);
    const v = access.view;
    addon.batchNormBackward!(
      v(x!),
      v(dy!),
      v(gamma!),
      v(beta!),
      v(mean!),
      v(variance!),
      y ? v(y) : null,
      v(dx),
      v(dgamma),
      v(dbeta),
      Int32Array.of(n, h, w, c),
      eps,
    );
    return [dx, dgamma, dbeta];
  };
  return [
    { kernelName: BATCH_NORM_TRAIN, backendName, kernelFunc: forward },
    { kernelName: BATCH_NORM_TRAIN_GRAD, backendName, kernelFunc: backward },
  ];
}

import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { hardShrinkRelu, l1Normalize, MemoryMatrix, type MemoryRead } from '@squid-ad/memory-queue';

/**
 * Gong et al.'s addressing of a memory `M [N, C]` by queries `q [R, C]`
 * (models/memory_module.py `MemoryUnit.forward`): `w = softmax(q·Mᵀ)` over the N slots; for
 * λ > 0 hard shrinkage `ŵ = ReLU(w − λ)·w / (|w − λ| + 1e-12)` and L1 renormalisation; output
 * `ŵ·M`. The attention returned is ŵ (what the entropy loss reads).
 */
export function gongAddress(
  query: tf.Tensor2D,
  memory: tf.Tensor2D,
  shrink: number,
): MemoryRead<tf.Tensor2D> {
  return tf.tidy(() => {
    let w = tf.softmax(tf.matMul(query, memory, false, true)) as tf.Tensor2D;
    if (shrink > 0) w = l1Normalize(hardShrinkRelu(w, shrink)) as tf.Tensor2D;
    return { out: tf.matMul(w, memory), attention: w };
  });
}

/**
 * MemAE's entropy loss (models/entropy_loss.py): the mean over queries (rows) of
 * `−Σᵢ ŵᵢ log(ŵᵢ + 1e-12)`.
 */
export function addressingEntropy(attention: tf.Tensor2D): tf.Scalar {
  return tf.tidy(
    () => tf.mean(tf.neg(tf.sum(tf.mul(attention, tf.log(tf.add(attention, 1e-12))), 1))) as tf.Scalar,
  );
}

/**
 * The MemAE memory module (`MemModule`): every spatial position of a feature map
 * `[B, H, W, C]` is one C-dim query of one learned memory of N slots, initialised U(±1/√C)
 * (memory-queue's {@link MemoryMatrix} holds it). State `memory.weight`, as the official module.
 */
export class GongMemory implements Stateful {
  readonly matrix: MemoryMatrix;

  constructor(
    slots: number,
    channels: number,
    readonly shrink: number,
    rng: Rng,
  ) {
    // MemoryMatrix's own read rule (raw dot products) is not used; it holds the parameter.
    this.matrix = new MemoryMatrix({ slots, dim: channels, shrink: Math.max(shrink, 0), rng });
  }

  /** `[B, H, W, C]` → the memory output of the same shape, and the attention `[B·H·W, N]`. */
  apply(features: tf.Tensor4D): { out: tf.Tensor4D; attention: tf.Tensor2D } {
    return tf.tidy(() => {
      const [b, h, w, c] = features.shape;
      // NHWC rows are the official permute(0, 2, 3, 1).view(-1, C) rows, in the same order.
      const read = gongAddress(
        features.reshape([b * h * w, c]),
        this.matrix.memory as tf.Tensor2D,
        this.shrink,
      );
      return { out: read.out.reshape([b, h, w, c]) as tf.Tensor4D, attention: read.attention };
    });
  }

  state(): StateEntry[] {
    return prefixState(
      'memory',
      this.matrix.state().map((e) => ({ ...e, name: 'weight' })),
    );
  }

  dispose(): void {
    this.matrix.dispose();
  }
}

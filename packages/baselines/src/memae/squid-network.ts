import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { Conv2d, DoubleConv, type NormOptions, UpBlock } from '@squid-ad/gan-core';
import { MemoryMatrix } from '@squid-ad/memory-queue';
import type { MemaeSquidNetworkConfig } from './config.js';

/** Side of the bottleneck map after `level` stride-2 convs (kernel 3, pad 1: ⌈n/2⌉ each). */
export function bottleneckSide(imageSize: number, level: number): number {
  let side = imageSize;
  for (let i = 0; i < level; i++) side = Math.ceil(side / 2);
  return side;
}

/** The official channel list `f·[1, 2, 4, 8, 16, 16]`. */
export function squidFilterList(featuresRoot: number): number[] {
  return [1, 2, 4, 8, 16, 16].map((m) => m * featuresRoot);
}

/**
 * The whole bottleneck `[B, h, w, C]` as one query per image `[B, C·h·w]`, flattened in
 * PyTorch's C, H, W order (`x.view(B, -1)` on NCHW), so memory slots keep the official layout.
 */
export function bottleneckQuery(h: tf.Tensor4D): tf.Tensor2D {
  return tf.tidy(() => {
    const [b, hh, ww, c] = h.shape;
    return tf.transpose(h, [0, 3, 1, 2]).reshape([b, c * hh * ww]) as tf.Tensor2D;
  });
}

/** The inverse of {@link bottleneckQuery}: `[B, C·h·w]` → `[B, h, w, C]`. */
export function fromBottleneckQuery(q: tf.Tensor2D, [c, h, w]: [number, number, number]): tf.Tensor4D {
  return tf.tidy(() => tf.transpose(q.reshape([q.shape[0], c, h, w]), [0, 2, 3, 1]) as tf.Tensor4D);
}

/** One forward pass: the reconstruction in [0, 1] and the addressing weights of the one query per image. */
export interface SquidMemaeForward {
  /** `[B, S, S, 1]`, after the sigmoid */
  recon: tf.Tensor4D;
  /** `[B, N]` */
  attention: tf.Tensor2D;
}

/**
 * The SQUID authors' MemAE (SQUID repository @0db55e0, models/baseline.py class `AE`): the
 * U-Net-style encoder/decoder of SQUID (gan-core's {@link DoubleConv} and {@link UpBlock}) with
 * every skip switched off (op 'none': an up block only takes its skip's size), and one learned
 * memory (memory-queue's {@link MemoryMatrix}) read by the whole flattened bottleneck as ONE
 * query per image: raw dot products with the slots, hard shrinkage, L1 normalisation. Output
 * 1×1 conv → sigmoid. The query is flattened in PyTorch's C, H, W order, so `memory.memMatrix`
 * has the official layout. State names are the official ones.
 */
export class SquidMemae implements Stateful {
  readonly inConv: DoubleConv;
  readonly down: DoubleConv[] = [];
  readonly up: UpBlock[] = [];
  readonly memory: MemoryMatrix;
  readonly outConv: Conv2d;
  /** `[C, h, w]` of the bottleneck; the memory slot size is their product. */
  readonly bottleneck: [number, number, number];

  constructor(
    config: MemaeSquidNetworkConfig,
    readonly imageSize: number,
    rng: Rng,
  ) {
    const { level } = config;
    const f = squidFilterList(config.featuresRoot);
    this.inConv = new DoubleConv({ inChannels: 1, outChannels: f[0], rng });
    for (let i = 0; i < level; i++) {
      this.down.push(new DoubleConv({ inChannels: f[i], outChannels: f[i + 1], stride: 2, rng }));
      this.up.push(new UpBlock({ inChannels: f[level - i], outChannels: f[level - 1 - i], op: 'none', rng }));
    }
    const side = bottleneckSide(imageSize, level);
    this.bottleneck = [f[level], side, side];
    this.memory = new MemoryMatrix({
      slots: config.memorySlots,
      dim: f[level] * side * side,
      shrink: config.shrinkThreshold,
      rng,
    });
    this.outConv = new Conv2d({ inChannels: f[0], outChannels: 1, kernelSize: 1, rng });
  }

  /** `x [B, S, S, 1]` in [0, 1] → reconstruction and attention; `norm` picks batch or running BN statistics. */
  apply(x: tf.Tensor4D, norm: NormOptions): SquidMemaeForward {
    return tf.tidy(() => {
      let h = this.inConv.apply(x, norm);
      const skips: tf.Tensor4D[] = [];
      for (const block of this.down) {
        skips.push(h);
        h = block.apply(h, norm);
      }
      const { out, attention } = this.memory.read(bottleneckQuery(h));
      h = fromBottleneckQuery(out, this.bottleneck);
      this.up.forEach((block, i) => {
        h = block.apply(h, skips[skips.length - 1 - i], norm);
      });
      return { recon: tf.sigmoid(this.outConv.apply(h)) as tf.Tensor4D, attention };
    });
  }

  state(): StateEntry[] {
    return [
      ...prefixState('in_conv.conv', this.inConv.state()),
      ...this.down.flatMap((d, i) => prefixState(`down_blocks.${i}.mpconv`, d.state())),
      ...this.up.flatMap((u, i) => prefixState(`up_blocks.${i}`, u.state())),
      ...prefixState('memory', this.memory.state()),
      ...prefixState('out_conv.conv', this.outConv.state()),
    ];
  }

  dispose(): void {
    for (const m of [this.inConv, ...this.down, ...this.up, this.memory, this.outConv]) m.dispose();
  }
}

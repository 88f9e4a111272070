import { prefixState, type Rng, type StateEntry, type Stateful, stopGradient, tf } from '@squid-ad/backend';
import { BatchNorm2d, Conv2d, LayerNorm, Linear } from '@squid-ad/gan-core';
import {
  type BlockApplyOptions,
  MemoryMatrix,
  MemoryQueue,
  maskedMix,
  readMemory,
} from '@squid-ad/memory-queue';
import type { z } from 'zod';
import { InpaintConfig } from './config.js';
import { MultiheadAttention } from './multihead-attention.js';
import { patchNeighbours } from './patch-neighbours.js';
import { positionBits, positionCode } from './position-code.js';

export type InpaintBlockOptions = z.input<typeof InpaintConfig> & { rng: Rng };
export type InpaintApplyOptions = BlockApplyOptions & {
  /** Training: BatchNorm running-statistics updates this forward stands for (default 1). */
  normUpdates?: number;
};

function parseOptions(options: InpaintBlockOptions): InpaintConfig {
  const result = InpaintConfig.safeParse(options);
  if (!result.success) {
    const issues = result.error.issues
      .map((i) => `${i.path.join('.') || '(options)'}: ${i.message}`)
      .join('; ');
    throw new Error(`InpaintBlock: invalid options: ${issues}`);
  }
  return result.data;
}

/**
 * SQUID's feature in-painting block (official `InpaintBlock`) on NHWC patch bottlenecks
 * `[B·P², h, w, C]`, rows `b·P² + n`: 1×1 conv to C/4 + BN + ReLU gives f; each patch's f
 * (flattened C, H, W) reads its position's memory queue → n; a one-layer post-norm transformer
 * in-paints each patch from the read-outs of its 8 grid neighbours (query f, zero vectors outside
 * the grid); a binary position code is appended and a 1×1 conv + BN + ReLU restores C channels.
 * Training mixes the result with the input by a Bernoulli(ratio) spatial mask; eval does not.
 * The ablations of SQUID's Table 2 switch the memory (`memory`, `shared`, `shrink: 'softmax'`)
 * and the shortcut (`shortcut`); the defaults are the official block.
 */
export class InpaintBlock implements Stateful {
  readonly config: InpaintConfig;
  /** Channels inside the block, ⌊C/4⌋. */
  readonly inner: number;
  /** Memory/attention vector size `inner·h·w`. */
  readonly dim: number;
  /** Patch positions P². */
  readonly positions: number;
  readonly bits: number;
  readonly conv1: Conv2d;
  readonly bn1: BatchNorm2d;
  /** Memory queues, one per position (one in all with `shared`); empty with a learned `matrix` memory. */
  readonly queues: MemoryQueue[];
  /** Learned memories (`memory: 'matrix'`), one per position (one with `shared`); empty with queues. */
  readonly matrices: MemoryMatrix[];
  readonly attention: MultiheadAttention;
  readonly norm1: LayerNorm;
  readonly ff0: Linear;
  readonly ff3: Linear;
  readonly norm2: LayerNorm;
  readonly conv2: Conv2d;
  readonly bn2: BatchNorm2d;
  /** Query features `[P², B, dim]` of the last training forward, waiting for {@link updateQueues}. */
  private pending: tf.Tensor3D | null = null;

  constructor(options: InpaintBlockOptions) {
    const c = parseOptions(options);
    this.config = c;
    const { rng } = options;
    this.inner = Math.floor(c.channels / 4);
    this.dim = this.inner * c.height * c.width;
    this.positions = c.numPatch * c.numPatch;
    this.bits = positionBits(this.positions);
    if (this.dim % c.heads !== 0) {
      throw new Error(
        `InpaintBlock: vector size (C/4)·h·w = ${this.dim} is not divisible by ${c.heads} heads`,
      );
    }
    this.conv1 = new Conv2d({
      inChannels: c.channels,
      outChannels: this.inner,
      kernelSize: 1,
      bias: false,
      rng,
    });
    this.bn1 = new BatchNorm2d(this.inner);
    const memories = c.shared ? 1 : this.positions;
    const memoryOptions = { slots: c.slots, dim: this.dim, shrink: c.shrink, rng };
    this.queues =
      c.memory === 'queue' ? Array.from({ length: memories }, () => new MemoryQueue(memoryOptions)) : [];
    this.matrices =
      c.memory === 'matrix' ? Array.from({ length: memories }, () => new MemoryMatrix(memoryOptions)) : [];
    this.attention = new MultiheadAttention(this.dim, c.heads, rng);
    this.norm1 = new LayerNorm(this.dim);
    this.ff0 = new Linear(this.dim, Math.floor(this.dim / 4), rng);
    this.ff3 = new Linear(Math.floor(this.dim / 4), this.dim, rng);
    this.norm2 = new LayerNorm(this.dim);
    this.conv2 = new Conv2d({
      inChannels: this.inner + this.bits,
      outChannels: c.channels,
      kernelSize: 1,
      rng,
    });
    this.bn2 = new BatchNorm2d(c.channels);
  }

  /**
   * `x [B·P², h, w, C]` → same shape. Training needs `options.rng` (masks, dropout) and records
   * the query features for {@link updateQueues}. `capture` receives the official intermediates
   * (`bottleneck_conv1`, `queue_in`, `queue_attention`, `queue_out`, `attention.query`,
   * `attention.key`, `attention.out`, `attention.weights`, `attn_norm1`, `ff`, `attn_norm2`,
   * `bottleneck_conv2_in`) in the official layouts.
   */
  apply(x: tf.Tensor4D, options: InpaintApplyOptions): tf.Tensor4D {
    const { channels, height: h, width: w, numPatch, ratio, drop, shortcut } = this.config;
    const n = this.positions;
    const d = this.dim;
    const [rows, xh, xw, xc] = x.shape;
    if (xh !== h || xw !== w || xc !== channels || rows % n !== 0) {
      throw new Error(
        `InpaintBlock.apply: expected [B·${n}, ${h}, ${w}, ${channels}] (NHWC, rows b·${n} + patch), got [${x.shape}]`,
      );
    }
    const { training } = options;
    if (training && !options.rng) throw new Error('InpaintBlock.apply: training mode needs options.rng');
    const rng = options.rng;
    const b = rows / n;
    const stats = training ? 'batch' : 'running';
    const norm = { stats, update: options.normUpdates ?? 1 } as const;
    const cap = (name: string, make: () => tf.Tensor) => {
      if (!options.capture) return;
      options.capture.get(name)?.dispose();
      options.capture.set(name, tf.keep(make()));
    };
    const dropout = (t: tf.Tensor): tf.Tensor => {
      if (!training || drop === 0 || !rng) return t;
      const keep = tf.cast(
        tf.greaterEqual(tf.randomUniform(t.shape, 0, 1, 'float32', rng.tfSeed()), drop),
        'float32',
      );
      return tf.mul(t, tf.div(keep, 1 - drop));
    };

    return tf.tidy(() => {
      const f = tf.relu(this.bn1.apply(this.conv1.apply(x), norm)) as tf.Tensor4D; // [rows, h, w, C/4]
      cap('bottleneck_conv1', () => tf.transpose(f, [0, 3, 1, 2]));
      // Official vectors are flattened in (C, H, W) order.
      const fFlat = tf.transpose(f, [0, 3, 1, 2]).reshape([b, n, d]) as tf.Tensor3D;
      cap('queue_in', () => fFlat.clone());
      const queries = fFlat.transpose([1, 0, 2]) as tf.Tensor3D; // [P², B, dim]
      if (training && this.queues.length > 0) {
        this.pending?.dispose();
        this.pending = tf.keep(stopGradient(queries).clone());
      }
      // Queues are read detached (never trained); a learned matrix gets its gradient.
      const memories =
        this.queues.length > 0
          ? stopGradient(tf.stack(this.queues.map((q) => q.memory)) as tf.Tensor3D)
          : (tf.stack(this.matrices.map((m) => m.memory)) as tf.Tensor3D);
      // A shared memory [1, slots, dim] is read by all P²·B queries as one group.
      const grouped = memories.shape[0] === n ? queries : (queries.reshape([1, n * b, d]) as tf.Tensor3D);
      const read = readMemory(grouped, memories, this.config.shrink);
      const attention = read.attention.reshape([n, b, -1]);
      cap('queue_attention', () => attention.transpose([1, 0, 2]));
      const nx = read.out.reshape([n, b, d]).transpose([1, 0, 2]) as tf.Tensor3D; // [B, P², dim]
      cap('queue_out', () => nx.clone());

      const query = fFlat.reshape([rows, 1, d]) as tf.Tensor3D;
      cap('attention.query', () => query.transpose([1, 0, 2]));
      cap('attention.key', () => patchNeighbours(nx, numPatch).transpose([1, 0, 2]));
      // Keys/values are the 8 neighbours of each read-out: project every read-out once, then
      // gather neighbours (8× fewer flops than projecting the neighbourhoods). A zero
      // out-of-grid neighbour projects to exactly the bias, so the bias is added after gathering.
      const projected = this.attention.projectIn(query, nx, nx, false);
      const bias = (part: number) => this.attention.inProjBias.slice([part * d], [d]);
      const neighbourProjection = (p: tf.Tensor, part: number) =>
        tf.add(patchNeighbours(p as tf.Tensor3D, numPatch), bias(part)) as tf.Tensor3D; // [rows, 8, dim]
      const attn = this.attention.attendProjected(
        tf.add(projected.q, bias(0)) as tf.Tensor3D,
        neighbourProjection(projected.k, 1),
        neighbourProjection(projected.v, 2),
        options.capture !== undefined,
      );
      cap('attention.out', () => attn.out.transpose([1, 0, 2]));
      if (attn.weights) cap('attention.weights', () => attn.weights!.clone());

      const residual = nx.reshape([rows, d]);
      const a1 = this.norm1.apply(attn.out.reshape([rows, d]));
      cap('attn_norm1', () => a1.reshape([1, rows, d]));
      const h1 = tf.relu(tf.add(a1, residual));
      // ff = Linear → Dropout → ReLU → Linear → Dropout
      const ff = dropout(this.ff3.apply(tf.relu(dropout(this.ff0.apply(h1)))));
      cap('ff', () => ff.reshape([1, rows, d]));
      const a2 = this.norm2.apply(ff);
      cap('attn_norm2', () => a2.reshape([1, rows, d]));
      const h2 = tf.relu(tf.add(a2, h1));

      // Unflatten (C, H, W) back to NHWC and append the position bits of each row's patch.
      const inpainted = h2.reshape([rows, this.inner, h, w]).transpose([0, 2, 3, 1]);
      const code = tf.tile(positionCode(n), [b, 1]).reshape([rows, 1, 1, this.bits]).tile([1, h, w, 1]);
      const z = tf.concat([inpainted, code], 3) as tf.Tensor4D;
      cap('bottleneck_conv2_in', () => tf.transpose(z, [0, 3, 1, 2]));
      const y = tf.relu(this.bn2.apply(this.conv2.apply(z), norm)) as tf.Tensor4D;
      if (shortcut === 'residual') return tf.add(y, x) as tf.Tensor4D;
      if (shortcut === 'off') return y;
      return training && rng ? maskedMix(y, x, ratio, rng, options.masks) : y;
    });
  }

  /**
   * Enqueues the query features of the last training forward into each position's queue (B new
   * vectors per queue; a shared queue takes all B·P², in row order `b·P² + n`). Call after the
   * optimizer step; a no-op when nothing is pending (and always with a learned memory).
   */
  updateQueues(): void {
    if (!this.pending) return;
    const pending = this.pending;
    this.pending = null;
    tf.tidy(() => {
      if (this.queues.length === 1 && this.positions > 1) {
        this.queues[0].enqueue(pending.transpose([1, 0, 2]).reshape([-1, this.dim]) as tf.Tensor2D);
        return;
      }
      const perPosition = tf.unstack(pending) as tf.Tensor2D[];
      this.queues.forEach((q, i) => {
        q.enqueue(perPosition[i]);
      });
    });
    pending.dispose();
  }

  /** Official names; `memory.{n}.ptr` is ours only. A learned memory has `memory.{n}.memMatrix` as a parameter. */
  state(): StateEntry[] {
    return [
      ...prefixState('bottleneck_conv1.0', this.conv1.state()),
      ...prefixState('bottleneck_conv1.1', this.bn1.state()),
      ...this.queues.flatMap((q, i) => prefixState(`memory.${i}`, q.state())),
      ...this.matrices.flatMap((m, i) => prefixState(`memory.${i}`, m.state())),
      ...prefixState('attention', this.attention.state()),
      ...prefixState('attn_norm1', this.norm1.state()),
      ...prefixState('ff.0', this.ff0.state()),
      ...prefixState('ff.3', this.ff3.state()),
      ...prefixState('attn_norm2', this.norm2.state()),
      ...prefixState('bottleneck_conv2.0', this.conv2.state()),
      ...prefixState('bottleneck_conv2.1', this.bn2.state()),
    ];
  }

  dispose(): void {
    this.pending?.dispose();
    this.pending = null;
    for (const m of [
      this.conv1,
      this.bn1,
      ...this.queues,
      ...this.matrices,
      this.attention,
      this.norm1,
      this.ff0,
    ])
      m.dispose();
    for (const m of [this.ff3, this.norm2, this.conv2, this.bn2]) m.dispose();
  }
}

import { prefixState, type Rng, type StateEntry, type Stateful, stopGradient, tf } from '@squid-ad/backend';
import { Decoder, distillationLoss, Encoder, type NormStats } from '@squid-ad/gan-core';
import { InpaintBlock } from '@squid-ad/inpainting';
import { type MaskSource, MemoryMatrixBlock, MemoryMatrixBlockV3 } from '@squid-ad/memory-queue';
import { type ModelGeometry, modelGeometry, type SquidConfig } from './config.js';
import { splitPatches, stitchPatches } from './patches.js';

export interface GeneratorForwardOptions {
  /** Training: BatchNorm batch statistics (+ running update), Bernoulli masks, queue features recorded. */
  training: boolean;
  /** Source of the training-mode Bernoulli masks (required when training). */
  rng?: Rng;
  /**
   * Training: the keep masks of the in-painting shortcut and the decoder memories, in forward
   * order, instead of Bernoulli draws from `rng` (replaying masks recorded from the official code).
   */
  masks?: MaskSource;
  /**
   * Training: BatchNorm running-statistics updates this forward stands for (default 1). A trainer
   * that lets one forward serve both steps of an iteration passes 2, as the official schedule
   * runs two training forwards there (see `SquidTrainer`).
   */
  normUpdates?: number;
  /**
   * When given, receives every intermediate under the official fixture names (`gen.in_conv`,
   * `gen.inpaint_block.queue_out`, `out.recon`, …) in the official layout (NCHW). Caller disposes.
   */
  capture?: Map<string, tf.Tensor>;
}

// A type alias (not an interface) so that it is a TensorContainer: `tf.tidy(() => g.forward(...))`.
export type GeneratorOutput = {
  /** Student reconstruction `[B, S, S, C]` in [0, 1]. */
  recon: tf.Tensor4D;
  /** Teacher reconstruction `[B, S, S, C]` in [0, 1]. */
  teacherRecon: tf.Tensor4D;
  /** Σ over decoder levels of MSE(student level after its memory, teacher level). */
  distLoss: tf.Scalar;
};

/**
 * What a forward computes when the teacher may be ablated (`ablation.teacher: false`): the
 * teacher's reconstruction and the distillation loss are then absent.
 */
export type GeneratorParts = {
  recon: tf.Tensor4D;
  teacherRecon?: tf.Tensor4D;
  distLoss?: tf.Scalar;
};

type DecoderMemory = MemoryMatrixBlockV3 | MemoryMatrixBlock;

/** Official layout of an activation: NHWC → NCHW for images, as is otherwise. */
function official(t: tf.Tensor): tf.Tensor {
  return t.rank === 4 ? tf.transpose(t, [0, 3, 1, 2]) : t.clone();
}

/**
 * The SQUID generator (official `AE`): patch-wise residual encoder, in-painting block with
 * memory queues, student decoder with decoder memories, teacher decoder and distillation.
 * Input and outputs NHWC. State names are the official ones without the `generator.` prefix.
 * `config.ablation` takes components out (the in-painting block, the teacher) or swaps them;
 * an ablated component is not built, so it has no state and costs nothing.
 */
export class SquidGenerator implements Stateful {
  readonly geometry: ModelGeometry;
  readonly encoder: Encoder;
  /** The in-painting block; null with `ablation.inpainting: false`. */
  readonly inpaintBlock: InpaintBlock | null;
  /** Decoder memory per U-Net level j (null = identity), applied after decoder step `level − 1 − j`. */
  readonly memoryBlocks: (DecoderMemory | null)[];
  readonly decoder: Decoder;
  /** The teacher decoder; null with `ablation.teacher: false`. */
  readonly teacherDecoder: Decoder | null;

  constructor(
    readonly config: SquidConfig,
    rng: Rng,
  ) {
    const m = config.model;
    const a = config.ablation;
    const g = modelGeometry(m);
    // Every memory read (in-painting and decoder memories) shrinks by `model.shrink`, or not at all.
    const shrink = a.addressing === 'softmax' ? ('softmax' as const) : m.shrink;
    const shared = !a.spaceAware;
    this.geometry = g;
    this.encoder = new Encoder({
      inChannels: m.inChannels,
      featuresRoot: m.featuresRoot,
      level: m.level,
      rng,
    });
    this.decoder = new Decoder({
      featuresRoot: m.featuresRoot,
      level: m.level,
      ops: m.ops,
      outChannels: m.inChannels,
      rng,
    });
    this.inpaintBlock = a.inpainting
      ? new InpaintBlock({
          channels: g.bottleneck.channels,
          numPatch: m.numPatch,
          height: g.bottleneck.size,
          width: g.bottleneck.size,
          slots: m.numSlots,
          shrink,
          memory: a.memory,
          shared,
          shortcut: a.shortcut,
          ratio: m.ratio,
          drop: m.drop,
          rng,
        })
      : null;
    this.memoryBlocks = m.decoderMemory.map((d, j) => {
      if (!d) return null;
      const side = g.stitched[j] ? g.patchSpatial[j] * m.numPatch : g.patchSpatial[j];
      const options = {
        numMemory: d.numMemory,
        slots: m.memNumSlots,
        channels: g.filters[j],
        height: side,
        width: side,
        shrink,
        shared,
        ratio: m.ratio,
        rng,
      };
      return d.type === 'MemoryMatrixBlockV3'
        ? new MemoryMatrixBlockV3(options)
        : new MemoryMatrixBlock(options);
    });
    this.teacherDecoder = a.teacher
      ? new Decoder({
          featuresRoot: m.featuresRoot,
          level: m.level,
          ops: m.ops,
          outChannels: m.inChannels,
          rng,
          names: { ups: 'teacher_ups', out: 'teacher_out' },
        })
      : null;
  }

  /** The in-painting block (an error when `ablation.inpainting` is false). */
  get inpaint(): InpaintBlock {
    if (!this.inpaintBlock)
      throw new Error('SquidGenerator: no in-painting block (ablation.inpainting is false)');
    return this.inpaintBlock;
  }

  /** The teacher decoder (an error when `ablation.teacher` is false). */
  get teacher(): Decoder {
    if (!this.teacherDecoder)
      throw new Error('SquidGenerator: no teacher decoder (ablation.teacher is false)');
    return this.teacherDecoder;
  }

  /** x `[B, S, S, C]` in [0, 1] → reconstructions and distillation loss (needs the teacher; see {@link forwardParts}). */
  forward(x: tf.Tensor4D, opts: GeneratorForwardOptions): GeneratorOutput {
    if (!this.teacherDecoder)
      throw new Error(
        'SquidGenerator.forward: no teacher decoder (ablation.teacher is false); use forwardParts',
      );
    return this.run(x, opts, true) as GeneratorOutput;
  }

  /** As {@link forward}, for any ablation: without a teacher, `teacherRecon` and `distLoss` are absent. */
  forwardParts(x: tf.Tensor4D, opts: GeneratorForwardOptions): GeneratorParts {
    // Through `forward` when there is a teacher, so that whatever wraps `forward` (the training
    // parity test replays the official masks that way) sees the trainer's forwards too.
    return this.teacherDecoder ? this.forward(x, opts) : this.run(x, opts, false);
  }

  /**
   * Eval-mode student reconstruction only `[B, S, S, C]`: what scoring needs. Skips the teacher
   * decoder (about a third of the decoder cost); the result equals `forward(x, { training: false }).recon`.
   */
  reconstruct(x: tf.Tensor4D): tf.Tensor4D {
    return (this.run(x, { training: false }, false) as { recon: tf.Tensor4D }).recon;
  }

  private run(x: tf.Tensor4D, opts: GeneratorForwardOptions, withTeacher: boolean): GeneratorParts {
    const m = this.config.model;
    const [, h, w, c] = x.shape;
    if (h !== m.imageSize || w !== m.imageSize || c !== m.inChannels) {
      throw new Error(
        `SquidGenerator.forward: expected [B, ${m.imageSize}, ${m.imageSize}, ${m.inChannels}], got [${x.shape}]`,
      );
    }
    if (opts.training && !opts.rng) throw new Error('SquidGenerator.forward: training mode needs opts.rng');
    const stats: NormStats = opts.training ? 'batch' : 'running';
    const norm = { stats, update: opts.normUpdates ?? 1 };
    const cap = opts.capture;
    const keep = (name: string, t: tf.Tensor) => {
      if (!cap) return;
      cap.get(name)?.dispose();
      cap.set(name, tf.keep(official(t)));
    };
    const P = m.numPatch;
    const L = m.level;
    const stitchStep = L - m.initialCombine;

    return tf.tidy(() => {
      const patches = splitPatches(x, P);
      keep('gen.patches', patches);
      const features = this.encoder.apply(patches, norm);
      keep('gen.in_conv', features[0]);
      for (let i = 0; i < L; i++) keep(`gen.down_blocks.${i}`, features[i + 1]);
      // Skips: the input of each down block, stitched for levels below initialCombine.
      const skips = features.slice(0, L).map((f, j) => (j < m.initialCombine ? stitchPatches(f, P) : f));
      const bottleneck = features[L];
      keep('out.embedding', stitchPatches(bottleneck, P));

      const inpaint = (block: InpaintBlock) => {
        const inpaintCapture = cap ? new Map<string, tf.Tensor>() : undefined;
        const y = block.apply(bottleneck, {
          training: opts.training,
          rng: opts.rng,
          masks: opts.masks,
          normUpdates: norm.update,
          capture: inpaintCapture,
        });
        if (cap && inpaintCapture) {
          for (const [name, t] of inpaintCapture) {
            cap.get(`gen.inpaint_block.${name}`)?.dispose();
            cap.set(`gen.inpaint_block.${name}`, t);
          }
        }
        keep('gen.inpaint_block', y);
        return y;
      };
      // Without the block (ablation), the bottleneck goes straight to the decoder.
      const inpainted = this.inpaintBlock ? inpaint(this.inpaintBlock) : bottleneck;

      const stitchBefore = (i: number, t: tf.Tensor4D) => (i === stitchStep ? stitchPatches(t, P) : t);
      const student = this.decoder.apply(inpainted, skips, {
        ...norm,
        beforeStep: stitchBefore,
        afterStep: (i, t) => {
          keep(`gen.up_blocks.${i}`, t);
          const j = L - 1 - i;
          const block = this.memoryBlocks[j];
          if (!block) return t;
          const blockCapture = cap ? new Map<string, tf.Tensor>() : undefined;
          const y = block.apply(t, {
            training: opts.training,
            rng: opts.rng,
            masks: opts.masks,
            capture: blockCapture,
          });
          keep(`gen.memory_blocks.${j}`, y);
          if (cap && blockCapture) {
            for (const [name, v] of blockCapture) {
              cap.get(`gen.memory_blocks.${j}.${name}`)?.dispose();
              cap.set(`gen.memory_blocks.${j}.${name}`, v);
            }
          }
          return y;
        },
      });
      keep('gen.out_conv', student.logits);
      const recon = tf.sigmoid(student.logits) as tf.Tensor4D;
      keep('out.recon', recon);
      if (cap) keep('out.patch', splitPatches(recon, P));
      if (!withTeacher || !this.teacherDecoder) return { recon };
      // The teacher learns from the encoder but must not train it: detached inputs.
      const teacher = this.teacherDecoder.apply(
        stopGradient(bottleneck),
        skips.map((s) => stopGradient(s)),
        {
          ...norm,
          beforeStep: stitchBefore,
          afterStep: (i, t) => {
            keep(`gen.teacher_ups.${i}`, t);
            return t;
          },
        },
      );
      keep('gen.teacher_out', teacher.logits);
      const teacherRecon = tf.sigmoid(teacher.logits) as tf.Tensor4D;
      keep('out.teacher_recon', teacherRecon);
      const distLoss = distillationLoss(student.levels, teacher.levels);
      if (cap) {
        const terms = tf.stack(
          student.levels.map((s, i) => tf.mean(tf.squaredDifference(s, teacher.levels[i]))),
        );
        keep('out.dist_loss_terms', terms);
        keep('out.dist_loss', distLoss);
      }
      return { recon, teacherRecon, distLoss };
    });
  }

  /** Enqueues the features of the last training forward into every in-painting queue (after the G step). */
  updateMemory(): void {
    this.inpaintBlock?.updateQueues();
  }

  /** Official state_dict order: encoder, up blocks, in-painting, decoder memories, out conv, teacher. */
  state(): StateEntry[] {
    const enc = this.encoder.state();
    const dec = this.decoder.state();
    return [
      ...enc,
      ...dec.filter((e) => e.name.startsWith('up_blocks.')),
      ...(this.inpaintBlock ? prefixState('inpaint_block', this.inpaintBlock.state()) : []),
      ...this.memoryBlocks.flatMap((b, j) => (b ? prefixState(`memory_blocks.${j}`, b.state()) : [])),
      ...dec.filter((e) => e.name.startsWith('out_conv.')),
      ...(this.teacherDecoder?.state() ?? []),
    ];
  }

  dispose(): void {
    this.encoder.dispose();
    this.inpaintBlock?.dispose();
    for (const b of this.memoryBlocks) b?.dispose();
    this.decoder.dispose();
    this.teacherDecoder?.dispose();
  }
}

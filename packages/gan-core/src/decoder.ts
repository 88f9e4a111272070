import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { Conv2d } from './conv2d.js';
import type { NormOptions } from './double-conv.js';
import { filterList } from './encoder.js';
import { type SkipOp, UpBlock } from './up-block.js';

export interface DecoderOptions {
  featuresRoot: number;
  level: number;
  /** Skip op of each decoder step (length `level`). */
  ops: SkipOp[];
  outChannels: number;
  rng: Rng;
  /** Official module names: `up_blocks`/`out_conv` (student, default) or `teacher_ups`/`teacher_out`. */
  names?: { ups: string; out: string };
}

export interface DecoderApplyOptions extends NormOptions {
  /** Called on `x` before step `i` (e.g. to stitch patches); returns the tensor to use. */
  beforeStep?: (i: number, x: tf.Tensor4D) => tf.Tensor4D;
  /** Called on the output of step `i` (e.g. a memory block); returns the tensor to use. */
  afterStep?: (i: number, x: tf.Tensor4D) => tf.Tensor4D;
}

export interface DecoderOutput {
  /** Output of each decoder step after `afterStep`, step order. */
  levels: tf.Tensor4D[];
  /** 1×1 output conv of the last level, before any sigmoid: `[B, H, W, outChannels]`. */
  logits: tf.Tensor4D;
}

/**
 * The SQUID U-Net decoder: step `i` upsamples to skip `level−1−i` and applies up block `i`
 * (`in = f[level−i] (+ f[level−1−i] for concat)`, `out = f[level−1−i]`), then a 1×1 out conv.
 */
export class Decoder implements Stateful {
  readonly ups: UpBlock[];
  readonly out: Conv2d;
  private readonly names: { ups: string; out: string };

  constructor(o: DecoderOptions) {
    if (o.ops.length !== o.level) throw new Error(`Decoder: ${o.ops.length} ops for ${o.level} levels`);
    this.names = o.names ?? { ups: 'up_blocks', out: 'out_conv' };
    const f = filterList(o.featuresRoot);
    this.ups = o.ops.map((op, i) => {
      const j = o.level - 1 - i;
      const inChannels = f[j + 1] + (op === 'concat' ? f[j] : 0);
      return new UpBlock({ inChannels, outChannels: f[j], op, rng: o.rng });
    });
    this.out = new Conv2d({ inChannels: f[0], outChannels: o.outChannels, kernelSize: 1, rng: o.rng });
  }

  /** Decodes `x` using `skips[level−1−i]` at step `i` (skips as returned by the encoder). */
  apply(x: tf.Tensor4D, skips: tf.Tensor4D[], o: DecoderApplyOptions): DecoderOutput {
    return tf.tidy(() => {
      const levels: tf.Tensor4D[] = [];
      let h = x;
      for (let i = 0; i < this.ups.length; i++) {
        if (o.beforeStep) h = o.beforeStep(i, h);
        h = this.ups[i].apply(h, skips[this.ups.length - 1 - i], o);
        if (o.afterStep) h = o.afterStep(i, h);
        levels.push(h);
      }
      return { levels, logits: this.out.apply(h) };
    });
  }

  state(): StateEntry[] {
    return [
      ...this.ups.flatMap((u, i) => prefixState(`${this.names.ups}.${i}`, u.state())),
      ...prefixState(`${this.names.out}.conv`, this.out.state()),
    ];
  }

  dispose(): void {
    for (const u of this.ups) u.dispose();
    this.out.dispose();
  }
}

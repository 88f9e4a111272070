import { prefixState, type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, Conv2d, ConvTranspose2d, type NormOptions } from '@squid-ad/gan-core';
import type { MemaeNetworkConfig } from './config.js';
import { GongMemory } from './gong-memory.js';
import { memaeWeightsInit } from './normal-init.js';

/** What one forward pass gives: the reconstruction in the model's [−1, 1] units and the addressing weights. */
export interface MemaeForward {
  /** `[B, S, S, 1]`, no output activation */
  recon: tf.Tensor4D;
  /** `[B·h·w, N]`: one row per bottleneck position (query) */
  attention: tf.Tensor2D;
}

/**
 * Gong et al.'s MemAE for 1-channel images (paper §4's image models; the official code's 3-D
 * video model has the same structure): encoder Conv(3, 2, pad 1) → BN → ReLU per width; memory
 * module on the bottleneck map; decoder ConvTranspose(3, 2, pad 1, output pad 1) → BN → ReLU,
 * the last one to 1 channel with no BN, activation or clipping. State names follow the official
 * Sequentials (`encoder.0` conv, `encoder.1` BN, `encoder.3` …, `mem_rep.memory.weight`, `decoder.*`).
 */
export class GongMemae implements Stateful {
  readonly encoderConvs: Conv2d[] = [];
  readonly encoderNorms: BatchNorm2d[] = [];
  readonly memory: GongMemory;
  readonly decoderConvs: ConvTranspose2d[] = [];
  readonly decoderNorms: BatchNorm2d[] = [];

  constructor(config: MemaeNetworkConfig, rng: Rng) {
    const { encoderWidths, decoderWidths } = config;
    let c = 1;
    for (const w of encoderWidths) {
      this.encoderConvs.push(
        new Conv2d({ inChannels: c, outChannels: w, kernelSize: 3, stride: 2, padding: 1, rng }),
      );
      this.encoderNorms.push(new BatchNorm2d(w));
      c = w;
    }
    this.memory = new GongMemory(config.memorySlots, c, config.shrinkThreshold, rng);
    const outs = [...decoderWidths, 1];
    outs.forEach((w, i) => {
      this.decoderConvs.push(
        new ConvTranspose2d({
          inChannels: c,
          outChannels: w,
          kernelSize: 3,
          stride: 2,
          padding: 1,
          outputPadding: 1,
          rng,
        }),
      );
      if (i < outs.length - 1) this.decoderNorms.push(new BatchNorm2d(w));
      c = w;
    });
    memaeWeightsInit(
      [...this.encoderConvs, ...this.encoderNorms, ...this.decoderConvs, ...this.decoderNorms],
      rng,
    );
  }

  /** `x [B, S, S, 1]` in [−1, 1] → reconstruction and attention; `norm` picks batch or running BN statistics. */
  apply(x: tf.Tensor4D, norm: NormOptions): MemaeForward {
    return tf.tidy(() => {
      let h = x;
      this.encoderConvs.forEach((conv, i) => {
        h = this.encoderNorms[i].apply(conv.apply(h), { ...norm, relu: true });
      });
      const { out, attention } = this.memory.apply(h);
      h = out;
      this.decoderConvs.forEach((conv, i) => {
        h = conv.apply(h);
        if (i < this.decoderNorms.length) h = this.decoderNorms[i].apply(h, { ...norm, relu: true });
      });
      return { recon: h, attention };
    });
  }

  state(): StateEntry[] {
    const entries: StateEntry[] = [];
    this.encoderConvs.forEach((conv, i) => {
      entries.push(...prefixState(`encoder.${3 * i}`, conv.state()));
      entries.push(...prefixState(`encoder.${3 * i + 1}`, this.encoderNorms[i].state()));
    });
    entries.push(...prefixState('mem_rep', this.memory.state()));
    this.decoderConvs.forEach((conv, i) => {
      entries.push(...prefixState(`decoder.${3 * i}`, conv.state()));
      if (i < this.decoderNorms.length)
        entries.push(...prefixState(`decoder.${3 * i + 1}`, this.decoderNorms[i].state()));
    });
    return entries;
  }

  dispose(): void {
    for (const m of [
      ...this.encoderConvs,
      ...this.encoderNorms,
      this.memory,
      ...this.decoderConvs,
      ...this.decoderNorms,
    ])
      m.dispose();
  }
}

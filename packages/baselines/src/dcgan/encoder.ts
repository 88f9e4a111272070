import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, Conv2d } from '@squid-ad/gan-core';
import { dcganInit } from './init.js';

/** Size and widths of a DCGAN network (GANomaly's `isize`, `nz`, `ngf`, `nc`). */
export interface DcganOptions {
  /** Image side: a power of two ≥ 16 (pad other sizes with `padToPowerOfTwo`). */
  imageSize: number;
  /** Latent channels (GANomaly: 100; its discriminator: 1). */
  nz: number;
  /** Width of the first conv (encoder) / last transposed conv (decoder); GANomaly: 64. */
  ngf: number;
  /** Image channels (1 here). */
  nc: number;
  /** Draws the initial weights ({@link dcganInit}). */
  rng: Rng;
}

/** How a DCGAN network runs. */
export interface DcganApplyOptions {
  /**
   * true: BatchNorm with batch statistics, updating the running ones (PyTorch train mode);
   * false: the running statistics (eval mode: an image's output does not depend on its batch).
   */
  training: boolean;
}

/** Checks `imageSize` is a power of two ≥ 16 (the official code asserts a multiple of 16; only powers of two build a matching encoder and decoder). */
export function checkDcganSize(imageSize: number, who: string): void {
  if (!Number.isInteger(imageSize) || imageSize < 16 || (imageSize & (imageSize - 1)) !== 0)
    throw new Error(
      `${who}: imageSize must be a power of two ≥ 16, got ${imageSize} (pad the images with padToPowerOfTwo)`,
    );
}

interface PyramidLayer {
  conv: Conv2d;
  norm: BatchNorm2d;
}

/**
 * GANomaly's DCGAN `Encoder` (lib/networks.py, extralayers 0), NHWC, every conv bias-free:
 * Conv(4,2,1) nc→ngf + LeakyReLU 0.2 (no BN); then Conv(4,2,1) c→2c + BN + LeakyReLU 0.2 while
 * the side is > 4; then Conv(4,1,0) c→nz to `[B, 1, 1, nz]`. {@link features} stops before the
 * final conv (GANomaly's discriminator `features`, `[B, 4, 4, c]`), {@link head} is that conv.
 * State names are the official `main.<module>.<param>` ones, e.g. `main.initial-conv-1-64.weight`,
 * `main.pyramid-64-128-conv.weight`, `main.pyramid-128-batchnorm.running_mean`, `main.final-512-1-conv.weight`.
 */
export class DcganEncoder implements Stateful {
  readonly options: Omit<DcganOptions, 'rng'>;
  readonly initial: Conv2d;
  readonly pyramid: PyramidLayer[] = [];
  readonly final: Conv2d;
  /** Channels of {@link features}' output (ngf · imageSize / 8). */
  readonly featureChannels: number;

  constructor(o: DcganOptions) {
    checkDcganSize(o.imageSize, 'DcganEncoder');
    const { imageSize, nz, ngf, nc, rng } = o;
    this.options = { imageSize, nz, ngf, nc };
    const conv = (inChannels: number, outChannels: number, stride: number, padding: number) =>
      new Conv2d({ inChannels, outChannels, kernelSize: 4, stride, padding, bias: false, rng });
    this.initial = conv(nc, ngf, 2, 1);
    let side = imageSize / 2;
    let c = ngf;
    while (side > 4) {
      this.pyramid.push({ conv: conv(c, 2 * c, 2, 1), norm: new BatchNorm2d(2 * c) });
      c *= 2;
      side /= 2;
    }
    this.featureChannels = c;
    this.final = conv(c, nz, 1, 0);
    this.reset(rng);
  }

  /** Re-draws every weight with GANomaly's init (running statistics kept, as `apply(weights_init)` does). */
  reset(rng: Rng): void {
    dcganInit([this.initial, ...this.pyramid.flatMap((l) => [l.conv, l.norm]), this.final], rng);
  }

  /** `[B, S, S, nc]` → the last LeakyReLU's output `[B, 4, 4, featureChannels]`. */
  features(x: tf.Tensor4D, o: DcganApplyOptions): tf.Tensor4D {
    return tf.tidy(() => {
      let h = tf.leakyRelu(this.initial.apply(x), 0.2);
      for (const { conv, norm } of this.pyramid)
        h = tf.leakyRelu(norm.apply(conv.apply(h), { stats: o.training ? 'batch' : 'running' }), 0.2);
      return h;
    });
  }

  /** The final Conv(4,1,0): `[B, 4, 4, featureChannels]` → `[B, 1, 1, nz]`. */
  head(features: tf.Tensor4D): tf.Tensor4D {
    return this.final.apply(features);
  }

  /** `[B, S, S, nc]` → the latent `[B, 1, 1, nz]`. */
  apply(x: tf.Tensor4D, o: DcganApplyOptions): tf.Tensor4D {
    return tf.tidy(() => this.head(this.features(x, o)));
  }

  /**
   * The parametrised modules in the order of the official `nn.Sequential`, with their index in it
   * (LeakyReLUs count) and official name: GANomaly's discriminator re-wraps the same layers as
   * `features.<index>` / `classifier.0`.
   */
  modules(): { index: number; name: string; state: StateEntry[] }[] {
    const { nc, ngf } = this.options;
    const out = [{ index: 0, name: `initial-conv-${nc}-${ngf}`, state: this.initial.state() }];
    let index = 2;
    let c = ngf;
    for (const { conv, norm } of this.pyramid) {
      out.push({ index, name: `pyramid-${c}-${2 * c}-conv`, state: conv.state() });
      out.push({ index: index + 1, name: `pyramid-${2 * c}-batchnorm`, state: norm.state() });
      index += 3;
      c *= 2;
    }
    // Official: 'final-{cndf}-{1}-conv' — the "1" is a literal, whatever nz is.
    out.push({ index, name: `final-${c}-1-conv`, state: this.final.state() });
    return out;
  }

  state(): StateEntry[] {
    return this.modules().flatMap((m) => m.state.map((e) => ({ ...e, name: `main.${m.name}.${e.name}` })));
  }

  dispose(): void {
    this.initial.dispose();
    for (const { conv, norm } of this.pyramid) {
      conv.dispose();
      norm.dispose();
    }
    this.final.dispose();
  }
}

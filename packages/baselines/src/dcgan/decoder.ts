import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { BatchNorm2d, ConvTranspose2d } from '@squid-ad/gan-core';
import { checkDcganSize, type DcganApplyOptions, type DcganOptions } from './encoder.js';
import { dcganInit } from './init.js';

interface PyramidLayer {
  convt: ConvTranspose2d;
  norm: BatchNorm2d;
}

/**
 * GANomaly's DCGAN `Decoder` (lib/networks.py, extralayers 0), NHWC, every transposed conv
 * bias-free: ConvT(4,1,0) nz→c0 + BN + ReLU (1×1 → 4×4, c0 = ngf · imageSize / 8); then
 * ConvT(4,2,1) c→c/2 + BN + ReLU while the side is < imageSize/2; then ConvT(4,2,1) → nc and Tanh,
 * so outputs lie in (−1, 1). State names are the official `main.<module>.<param>` ones, e.g.
 * `main.initial-100-512-convt.weight`, `main.pyramid-512-256-convt.weight`,
 * `main.pyramid-256-batchnorm.weight`, `main.final-64-1-convt.weight`.
 */
export class DcganDecoder implements Stateful {
  readonly options: Omit<DcganOptions, 'rng'>;
  readonly initial: ConvTranspose2d;
  readonly initialNorm: BatchNorm2d;
  readonly pyramid: PyramidLayer[] = [];
  readonly final: ConvTranspose2d;

  constructor(o: DcganOptions) {
    checkDcganSize(o.imageSize, 'DcganDecoder');
    const { imageSize, nz, ngf, nc, rng } = o;
    this.options = { imageSize, nz, ngf, nc };
    const convt = (inChannels: number, outChannels: number, stride: number, padding: number) =>
      new ConvTranspose2d({ inChannels, outChannels, kernelSize: 4, stride, padding, bias: false, rng });
    const c0 = (ngf / 2) * (imageSize / 4);
    this.initial = convt(nz, c0, 1, 0);
    this.initialNorm = new BatchNorm2d(c0);
    let c = c0;
    for (let side = 4; side < imageSize / 2; side *= 2) {
      this.pyramid.push({ convt: convt(c, c / 2, 2, 1), norm: new BatchNorm2d(c / 2) });
      c /= 2;
    }
    this.final = convt(c, nc, 2, 1);
    this.reset(rng);
  }

  /** Re-draws every weight with GANomaly's init (running statistics kept). */
  reset(rng: Rng): void {
    dcganInit(
      [this.initial, this.initialNorm, ...this.pyramid.flatMap((l) => [l.convt, l.norm]), this.final],
      rng,
    );
  }

  /** The latent `[B, 1, 1, nz]` → the image `[B, S, S, nc]` in (−1, 1). */
  apply(z: tf.Tensor4D, o: DcganApplyOptions): tf.Tensor4D {
    return tf.tidy(() => {
      const stats = o.training ? 'batch' : 'running';
      let h = this.initialNorm.apply(this.initial.apply(z), { stats, relu: true });
      for (const { convt, norm } of this.pyramid) h = norm.apply(convt.apply(h), { stats, relu: true });
      return tf.tanh(this.final.apply(h));
    });
  }

  state(): StateEntry[] {
    const { nz, nc } = this.options;
    const c0 = this.initialNorm.channels;
    const named: [string, StateEntry[]][] = [
      [`initial-${nz}-${c0}-convt`, this.initial.state()],
      [`initial-${c0}-batchnorm`, this.initialNorm.state()],
    ];
    let c = c0;
    for (const { convt, norm } of this.pyramid) {
      named.push([`pyramid-${c}-${c / 2}-convt`, convt.state()]);
      named.push([`pyramid-${c / 2}-batchnorm`, norm.state()]);
      c /= 2;
    }
    named.push([`final-${c}-${nc}-convt`, this.final.state()]);
    return named.flatMap(([m, entries]) => entries.map((e) => ({ ...e, name: `main.${m}.${e.name}` })));
  }

  dispose(): void {
    for (const e of this.state()) e.variable.dispose();
  }
}

import { prefixState, Rng, type StateEntry, tf } from '@squid-ad/backend';
import type { Inference, ModelInstance, ModelTrainer } from '@squid-ad/model-api';
import { cropTo, nextPowerOfTwo, padToPowerOfTwo } from '../dcgan/index.js';
import type { GanomalyConfig } from './config.js';
import { latentDistance } from './losses.js';
import { GanomalyDiscriminator, GanomalyGenerator } from './networks.js';
import { GanomalyTrainer } from './trainer.js';

/**
 * A GANomaly model: G (encoder1 → decoder → encoder2) and D, built for the preset's images padded
 * to the next power of two (96 → 128, 48 → 64; 128 as is). Images enter in [0, 1] and are mapped
 * to [−1, 1] (the official CIFAR normalisation, matching the decoder's Tanh) before padding.
 */
export class GanomalyModel implements ModelInstance {
  readonly generator: GanomalyGenerator;
  readonly discriminator: GanomalyDiscriminator;
  /** The side the networks see: `nextPowerOfTwo(config.imageSize)`. */
  readonly paddedSize: number;

  constructor(
    readonly config: GanomalyConfig,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed);
    this.paddedSize = nextPowerOfTwo(config.imageSize);
    const { nz, ngf } = config.network;
    // The official order: NetG (encoder1, decoder, encoder2), then NetD, each with weights_init.
    this.generator = new GanomalyGenerator({ imageSize: this.paddedSize, nz, ngf }, rng);
    this.discriminator = new GanomalyDiscriminator({ imageSize: this.paddedSize, ngf }, rng);
  }

  /** `[B, S, S, 1]` in [0, 1] → the networks' input `[B, P, P, 1]`: 2x − 1, zero-padded (centred). */
  input(images: tf.Tensor4D): tf.Tensor4D {
    const S = this.config.imageSize;
    if (images.shape[1] !== S || images.shape[2] !== S || images.shape[3] !== 1)
      throw new Error(`GANomaly: expected images [B, ${S}, ${S}, 1], got [${images.shape}]`);
    return tf.tidy(() => padToPowerOfTwo(tf.sub(tf.mul(images, 2), 1) as tf.Tensor4D));
  }

  /** A decoder output `[B, P, P, 1]` in (−1, 1) → the reconstruction `[B, S, S, 1]` in (0, 1). */
  output(fake: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.div(tf.add(cropTo(fake, this.config.imageSize), 1), 2) as tf.Tensor4D);
  }

  /** Eval mode (BatchNorm running statistics): recon = G(x), raw = mean over nz of (z − ẑ)². */
  infer(images: tf.Tensor4D): Inference {
    return tf.tidy(() => {
      const { fake, latentI, latentO } = this.generator.apply(this.input(images), { training: false });
      return { recon: this.output(fake), raw: latentDistance(latentI, latentO) };
    });
  }

  /** `netg.…` (the official netG.pth names) and `netd.…` (netD.pth): D is needed to resume training. */
  state(): StateEntry[] {
    return [...this.scoringState(), ...prefixState('netd', this.discriminator.state())];
  }

  /** Only G scores. */
  scoringState(): StateEntry[] {
    return prefixState('netg', this.generator.state());
  }

  createTrainer(rng: Rng): ModelTrainer {
    return new GanomalyTrainer(this, rng);
  }

  dispose(): void {
    this.generator.dispose();
    this.discriminator.dispose();
  }
}

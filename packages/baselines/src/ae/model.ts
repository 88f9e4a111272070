import { prefixState, Rng, type StateEntry, tf } from '@squid-ad/backend';
import { mse } from '@squid-ad/gan-core';
import type { Inference, ModelInstance, ModelTrainer } from '@squid-ad/model-api';
import { adamTrainer } from '../adam-trainer.js';
import { cropTo, DcganDecoder, DcganEncoder, nextPowerOfTwo, padToPowerOfTwo } from '../dcgan/index.js';
import type { AeConfig } from './config.js';
import { perImageMse } from './recon-error.js';
import { fromTanhRange, toTanhRange } from './tanh-range.js';

/**
 * The convolutional auto-encoder: GANomaly's DCGAN encoder → latent `[B, 1, 1, nz]` → DCGAN
 * decoder (tanh), i.e. GANomaly's generator without its second encoder and without a
 * discriminator. Images are mapped to [−1, 1], zero-padded (centred) to the next power of two
 * (96 → 128, 48 → 64), and the reconstruction is cropped back to the input size.
 */
export class AeModel implements ModelInstance {
  readonly encoder: DcganEncoder;
  readonly decoder: DcganDecoder;

  constructor(
    readonly config: AeConfig,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed);
    const imageSize = nextPowerOfTwo(config.imageSize);
    const { nz, ngf } = config.network;
    this.encoder = new DcganEncoder({ imageSize, nz, ngf, nc: 1, rng });
    this.decoder = new DcganDecoder({ imageSize, nz, ngf, nc: 1, rng });
  }

  /** `[B, S, S, 1]` in [0, 1] → the input and its reconstruction, both in [−1, 1] at S × S. */
  forward(images: tf.Tensor4D, training: boolean): { input: tf.Tensor4D; recon: tf.Tensor4D } {
    return tf.tidy(() => {
      const input = toTanhRange(images);
      const z = this.encoder.apply(padToPowerOfTwo(input), { training });
      const recon = cropTo(this.decoder.apply(z, { training }), this.config.imageSize);
      return { input, recon };
    });
  }

  state(): StateEntry[] {
    return [...prefixState('encoder', this.encoder.state()), ...prefixState('decoder', this.decoder.state())];
  }

  /** Eval mode (BatchNorm running statistics); raw = per-image mean squared error in [0, 1] units. */
  infer(images: tf.Tensor4D): Inference {
    return tf.tidy(() => {
      const recon = fromTanhRange(this.forward(images, false).recon);
      return { recon, raw: perImageMse(recon, images) };
    });
  }

  /** Adam on MSE(x̂, x) over the batch in [−1, 1] units (PyTorch `MSELoss()`, mean). */
  createTrainer(): ModelTrainer {
    const { lr, betas, eps, weightDecay } = this.config.optimizer;
    return adamTrainer({
      model: this,
      adam: { lr, betas, eps, weightDecay },
      // GANomaly's optimiser has no schedule.
      lrAt: () => lr,
      loss: (images) => {
        const { input, recon } = this.forward(images, true);
        const loss = mse(recon, input);
        return { objective: loss, terms: { recon: loss } };
      },
    });
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }
}

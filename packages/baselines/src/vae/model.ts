import { prefixState, Rng, type StateEntry, tf } from '@squid-ad/backend';
import type { Inference, ModelInstance, ModelTrainer } from '@squid-ad/model-api';
import { adamTrainer } from '../adam-trainer.js';
import { fromTanhRange, toTanhRange } from '../ae/tanh-range.js';
import { cropTo, DcganDecoder, DcganEncoder, nextPowerOfTwo, padToPowerOfTwo } from '../dcgan/index.js';
import type { VaeConfig } from './config.js';
import { reparameterise, standardNormal } from './gaussian-latent.js';
import { type NegElboTerms, negElbo } from './neg-elbo.js';

/** The encoder's Gaussian posterior q(z | x) = N(μ, σ²) of a batch, and the network's input. */
export interface Posterior {
  /** The images in [−1, 1], `[B, S, S, 1]` */
  input: tf.Tensor4D;
  /** `[B, 1, 1, nz]` */
  mu: tf.Tensor4D;
  /** log σ², `[B, 1, 1, nz]` */
  logVar: tf.Tensor4D;
}

/**
 * The VAE (Kingma & Welling 2014) on GANomaly's DCGAN networks: the encoder's final conv gives
 * 2·nz channels, μ (the first nz) and log σ² (the last nz); z = μ + σ ⊙ ε; the decoder (tanh)
 * is the mean of a Gaussian with fixed variance σ_x². Images are mapped to [−1, 1], zero-padded
 * (centred) to the next power of two, and reconstructions cropped back to the input size.
 */
export class VaeModel implements ModelInstance {
  readonly encoder: DcganEncoder;
  readonly decoder: DcganDecoder;

  constructor(
    readonly config: VaeConfig,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed);
    const imageSize = nextPowerOfTwo(config.imageSize);
    const { nz, ngf } = config.network;
    this.encoder = new DcganEncoder({ imageSize, nz: 2 * nz, ngf, nc: 1, rng });
    this.decoder = new DcganDecoder({ imageSize, nz, ngf, nc: 1, rng });
  }

  /** `[B, S, S, 1]` in [0, 1] → q(z | x). */
  encode(images: tf.Tensor4D, training: boolean): Posterior {
    return tf.tidy(() => {
      const input = toTanhRange(images);
      const [mu, logVar] = tf.split(this.encoder.apply(padToPowerOfTwo(input), { training }), 2, 3) as [
        tf.Tensor4D,
        tf.Tensor4D,
      ];
      return { input, mu, logVar };
    });
  }

  /** `[B, 1, 1, nz]` → the decoder's mean in (−1, 1), `[B, S, S, 1]`. */
  decode(z: tf.Tensor4D, training: boolean): tf.Tensor4D {
    return tf.tidy(() => cropTo(this.decoder.apply(z, { training }), this.config.imageSize));
  }

  /**
   * The training objective's terms per image, with z = μ + σ ⊙ `eps` (`[B, 1, 1, nz]`):
   * Σ_pixels (x − dec(z))² / (2 σ_x²) + KL(q(z | x) ‖ N(0, I)), in [−1, 1] pixel units.
   */
  trainingTerms(images: tf.Tensor4D, eps: tf.Tensor4D): NegElboTerms {
    return tf.tidy(() => {
      const { input, mu, logVar } = this.encode(images, true);
      const recon = this.decode(reparameterise(mu, logVar, eps) as tf.Tensor4D, true);
      const t = negElbo(recon, input, mu, logVar, this.config.loss.decoderVariance);
      return { recon: t.recon, kl: t.kl, total: t.total };
    });
  }

  state(): StateEntry[] {
    return [...prefixState('encoder', this.encoder.state()), ...prefixState('decoder', this.decoder.state())];
  }

  /**
   * Eval mode (BatchNorm running statistics, no sampling): recon = dec(μ); raw = the negative ELBO
   * with z = μ, Σ (x − dec(μ))² / (2 σ_x²) + KL, deterministic so that a score is reproducible.
   */
  infer(images: tf.Tensor4D): Inference {
    return tf.tidy(() => {
      const { input, mu, logVar } = this.encode(images, false);
      const recon = this.decode(mu, false);
      const { total } = negElbo(recon, input, mu, logVar, this.config.loss.decoderVariance);
      return { recon: fromTanhRange(recon), raw: total };
    });
  }

  /**
   * Adam on the batch mean of the negative ELBO, one ε ~ N(0, I) per image from `rng`. Logs
   * `loss` (that mean), `recon` and `kl` (their batch means).
   */
  createTrainer(rng: Rng): ModelTrainer {
    const { lr, betas, eps: adamEps, weightDecay } = this.config.optimizer;
    return adamTrainer({
      model: this,
      adam: { lr, betas, eps: adamEps, weightDecay },
      lrAt: () => lr,
      loss: (images) => {
        const eps = standardNormal([images.shape[0], 1, 1, this.config.network.nz], rng) as tf.Tensor4D;
        const terms = this.trainingTerms(images, eps);
        const loss = tf.mean(terms.total) as tf.Scalar;
        return {
          objective: loss,
          terms: { loss, recon: tf.mean(terms.recon) as tf.Scalar, kl: tf.mean(terms.kl) as tf.Scalar },
        };
      },
    });
  }

  dispose(): void {
    this.encoder.dispose();
    this.decoder.dispose();
  }
}

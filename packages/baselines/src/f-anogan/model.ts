import { Rng, type StateEntry, tf } from '@squid-ad/backend';
import type { Inference, ModelInstance, ModelTrainer } from '@squid-ad/model-api';
import { izifScore, izifTerms } from './anomaly-score.js';
import type { FAnoGanConfig } from './config.js';
import { Critic } from './critic.js';
import { NET_SIZE } from './down-trunk.js';
import { Encoder } from './encoder.js';
import { Generator } from './generator.js';
import { RUNNING } from './stage-losses.js';
import { FAnoGanTrainer } from './trainer.js';

/** Bilinear resize with half-pixel centres (PyTorch's align_corners=False); none at equal size. */
function resize(x: tf.Tensor4D, size: number): tf.Tensor4D {
  if (x.shape[1] === size && x.shape[2] === size) return x.clone();
  return tf.image.resizeBilinear(x, [size, size], false, true);
}

/**
 * f-AnoGAN (Schlegl et al. 2019): generator G, critic D and izi_f encoder E, built from one
 * seed in that order. Images are resized to the official 64×64 and mapped to [−1, 1].
 */
export class FAnoGanModel implements ModelInstance {
  readonly generator: Generator;
  readonly critic: Critic;
  readonly encoder: Encoder;

  constructor(
    readonly config: FAnoGanConfig,
    seed: number,
  ) {
    const rng = Rng.fromSeed(seed);
    this.generator = new Generator(config.dim, config.zDim, rng);
    this.critic = new Critic(config.dim, rng);
    this.encoder = new Encoder(config.dim, config.zDim, rng);
  }

  /** `[B, S, S, 1]` in [0, 1] → the official input `[B, 64, 64, 1]` in [−1, 1]. */
  toNet(images: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => tf.sub(tf.mul(resize(images, NET_SIZE), 2), 1) as tf.Tensor4D);
  }

  /** A network image in [−1, 1] → `[B, S, S, 1]` in [0, 1] at the config's image size. */
  fromNet(x: tf.Tensor4D): tf.Tensor4D {
    return tf.tidy(() => resize(tf.mul(tf.add(x, 1), 0.5) as tf.Tensor4D, this.config.imageSize));
  }

  /**
   * Eval mode: recon = G(E(x)) at the input size; raw = A(x) = mean_pixels (x − G(E(x)))² +
   * κ·mean_features (f(x) − f(G(E(x))))², at 64 px in [−1, 1] units (anomaly_detection.py).
   */
  infer(images: tf.Tensor4D): Inference {
    return tf.tidy(() => {
      const x = this.toNet(images);
      const recon = this.generator.apply(this.encoder.apply(x, RUNNING), RUNNING);
      const terms = izifTerms(x, recon, this.critic.features(x), this.critic.features(recon));
      return { recon: this.fromNet(recon), raw: izifScore(terms, this.config.kappa) };
    });
  }

  /** G, then D, then E, with the official TF variable names. */
  state(): StateEntry[] {
    return [...this.generator.state(), ...this.critic.state(), ...this.encoder.state()];
  }

  createTrainer(rng: Rng): ModelTrainer {
    return new FAnoGanTrainer(this, rng);
  }

  dispose(): void {
    this.generator.dispose();
    this.critic.dispose();
    this.encoder.dispose();
  }
}

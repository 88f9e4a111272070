import { type Rng, type StateEntry, type Stateful, tf } from '@squid-ad/backend';
import { DcganDecoder, DcganEncoder } from '../dcgan/index.js';

/** Sizes shared by GANomaly's networks: padded image side (a power of two ≥ 16), nz, ngf. */
export interface GanomalySizes {
  imageSize: number;
  nz: number;
  ngf: number;
}

/** What G gives for a batch. */
export interface GeneratorOutput {
  /** x̂ `[B, S, S, 1]` in (−1, 1) */
  fake: tf.Tensor4D;
  /** z = G_E(x) `[B, 1, 1, nz]` */
  latentI: tf.Tensor4D;
  /** ẑ = E(x̂) `[B, 1, 1, nz]` */
  latentO: tf.Tensor4D;
}

/**
 * GANomaly's `NetG`: encoder1 → decoder → encoder2, three separate DCGAN networks
 * (lib/networks.py). State names as its state_dict: `encoder1.main.…`, `decoder.main.…`, `encoder2.main.…`.
 */
export class GanomalyGenerator implements Stateful {
  readonly encoder1: DcganEncoder;
  readonly decoder: DcganDecoder;
  readonly encoder2: DcganEncoder;

  constructor(s: GanomalySizes, rng: Rng) {
    const o = { ...s, nc: 1, rng };
    this.encoder1 = new DcganEncoder(o);
    this.decoder = new DcganDecoder(o);
    this.encoder2 = new DcganEncoder(o);
  }

  /** x `[B, S, S, 1]` in model units → x̂, z, ẑ; `training` as {@link DcganEncoder.apply}. */
  apply(x: tf.Tensor4D, o: { training: boolean }): GeneratorOutput {
    const latentI = this.encoder1.apply(x, o);
    const fake = this.decoder.apply(latentI, o);
    const latentO = this.encoder2.apply(fake, o);
    return { fake, latentI, latentO };
  }

  state(): StateEntry[] {
    return [
      ...prefix('encoder1', this.encoder1.state()),
      ...prefix('decoder', this.decoder.state()),
      ...prefix('encoder2', this.encoder2.state()),
    ];
  }

  dispose(): void {
    this.encoder1.dispose();
    this.decoder.dispose();
    this.encoder2.dispose();
  }
}

/**
 * GANomaly's `NetD`: a DCGAN encoder with nz = 1 whose layers but the last are `features`
 * (`[B, 4, 4, C]` after the last LeakyReLU) and whose last conv + sigmoid is `classifier`.
 * {@link logits} stops before the sigmoid (the BCE is taken on logits). State names as its
 * state_dict: `features.<i>.…` (the Sequential indices, LeakyReLUs counted) and `classifier.0.weight`.
 */
export class GanomalyDiscriminator implements Stateful {
  readonly net: DcganEncoder;

  constructor(s: Omit<GanomalySizes, 'nz'>, rng: Rng) {
    this.net = new DcganEncoder({ imageSize: s.imageSize, nz: 1, ngf: s.ngf, nc: 1, rng });
  }

  /** `[B, S, S, 1]` → D's features `[B, 4, 4, C]`. */
  features(x: tf.Tensor4D, o: { training: boolean }): tf.Tensor4D {
    return this.net.features(x, o);
  }

  /** Features → the classifier's logit `[B]` (D(x) = sigmoid of it). */
  logits(features: tf.Tensor4D): tf.Tensor1D {
    return tf.tidy(() => tf.reshape(this.net.head(features), [-1]) as tf.Tensor1D);
  }

  /** The official weights_init again (running statistics kept), drawn from `rng`. */
  reset(rng: Rng): void {
    this.net.reset(rng);
  }

  state(): StateEntry[] {
    const modules = this.net.modules();
    const last = modules.length - 1;
    return modules.flatMap((m, i) =>
      m.state.map((e) => ({
        ...e,
        name: i === last ? `classifier.0.${e.name}` : `features.${m.index}.${e.name}`,
      })),
    );
  }

  dispose(): void {
    this.net.dispose();
  }
}

function prefix(name: string, entries: StateEntry[]): StateEntry[] {
  return entries.map((e) => ({ ...e, name: `${name}.${e.name}` }));
}

import { type Rng, tf } from '@squid-ad/backend';
import type { BatchNorm2d, Conv2d, ConvTranspose2d } from '@squid-ad/gan-core';

/**
 * GANomaly's `weights_init` (lib/networks.py; DCGAN's): conv and transposed-conv weights
 * N(0, 0.02); BatchNorm γ ~ N(1, 0.02), β = 0. Running statistics are left alone, as
 * `module.apply(weights_init)` leaves them (it matters when the discriminator is re-initialised).
 * Draws one tf seed per tensor from `rng`, in the order given.
 */
export function dcganInit(layers: (Conv2d | ConvTranspose2d | BatchNorm2d)[], rng: Rng): void {
  tf.tidy(() => {
    for (const layer of layers) {
      if ('runningMean' in layer) {
        layer.weight.assign(tf.randomNormal(layer.weight.shape, 1, 0.02, 'float32', rng.tfSeed()));
        layer.bias.assign(tf.zerosLike(layer.bias));
      } else {
        layer.weight.assign(tf.randomNormal(layer.weight.shape, 0, 0.02, 'float32', rng.tfSeed()));
      }
    }
  });
}

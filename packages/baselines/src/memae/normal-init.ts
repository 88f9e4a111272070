import { type Rng, tf } from '@squid-ad/backend';
import type { BatchNorm2d, Conv2d, ConvTranspose2d } from '@squid-ad/gan-core';

/**
 * The official MemAE `utils.weights_init` (applied with `model.apply`): every Conv / ConvTranspose
 * weight ~ N(0, 0.02) (biases keep PyTorch's default init), every BatchNorm γ ~ N(1, 0.02), β = 0.
 * The memory is not touched (its class name holds no "Conv"). Draws from `rng`, layer by layer.
 */
export function memaeWeightsInit(layers: (Conv2d | ConvTranspose2d | BatchNorm2d)[], rng: Rng): void {
  for (const layer of layers) {
    tf.tidy(() => {
      if ('runningMean' in layer) {
        layer.weight.assign(tf.randomNormal(layer.weight.shape, 1, 0.02, 'float32', rng.tfSeed()));
        layer.bias.assign(tf.zerosLike(layer.bias));
      } else {
        layer.weight.assign(tf.randomNormal(layer.weight.shape, 0, 0.02, 'float32', rng.tfSeed()));
      }
    });
  }
}

import { tf } from '@squid-ad/backend';
import type { ScoringModel } from './score.js';

/**
 * A stand-in model for scoring tests: the reconstruction is the image clipped at 0.5 (bright
 * pixels are "not reconstructed"), the logit is the reconstruction's pixel (0, 0).
 */
export const clippingModel: ScoringModel = {
  generator: {
    reconstruct: (x) => tf.minimum(x, 0.5) as tf.Tensor4D,
  },
  discriminator: {
    forward: (r) => tf.reshape(tf.slice(r, [0, 0, 0, 0], [-1, 1, 1, 1]), [-1, 1]) as tf.Tensor2D,
  },
};

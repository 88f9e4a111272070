import { Rng, tf } from '@squid-ad/backend';
import { mse } from '@squid-ad/gan-core';
import { type ModelInstance, type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { adamTrainer, type BatchLoss } from '../adam-trainer.js';
import { type MemaeConfig, memaeConfigSchema, memaePresetConfig } from './config.js';
import { addressingEntropy } from './gong-memory.js';
import { GongMemae } from './gong-network.js';
import { residualNormScore } from './residual-score.js';

/** [0, 1] images → [−1, 1] (the official `Normalize(0.5, 0.5)` for one channel). */
export function toSignedRange(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.sub(tf.mul(x, 2), 1) as tf.Tensor4D);
}

/**
 * MemAE's training loss on a batch in [0, 1] (script_training.py): `MSE(x̂, x) + α·E` in the
 * model's [−1, 1] units, E the addressing entropy. Train mode: BatchNorm on batch statistics,
 * updating the running ones unless `updateStats` is false (a gradient check evaluating it twice).
 */
export function memaeLoss(net: GongMemae, images: tf.Tensor4D, alpha: number, updateStats = true): BatchLoss {
  return tf.tidy(() => {
    const x = toSignedRange(images);
    const { recon, attention } = net.apply(x, { stats: 'batch', update: updateStats });
    const reconLoss = mse(recon, x);
    const entropy = addressingEntropy(attention);
    const total = tf.add(reconLoss, tf.mul(entropy, alpha)) as tf.Scalar;
    return { objective: total, terms: { recon: reconLoss, entropy, total } };
  });
}

/** A `memae` model: {@link GongMemae} with its loss, score and Adam. */
export function createMemae(config: MemaeConfig, seed: number): ModelInstance {
  const c = memaeConfigSchema.parse(config);
  const net = new GongMemae(c.network, Rng.fromSeed(seed));
  return {
    state: () => net.state(),
    infer(images) {
      return tf.tidy(() => {
        const x = toSignedRange(images);
        const { recon } = net.apply(x, { stats: 'running' });
        return {
          // Shown in [0, 1]; the score uses the unclipped output, as the official code does.
          recon: tf.clipByValue(tf.mul(tf.add(recon, 1), 0.5), 0, 1) as tf.Tensor4D,
          raw: residualNormScore(recon, x),
        };
      });
    },
    createTrainer: () =>
      adamTrainer({
        model: net,
        adam: { ...c.optimizer, betas: [...c.optimizer.betas] },
        lrAt: () => c.optimizer.lr,
        loss: (images) => memaeLoss(net, images, c.loss.entropyWeight),
      }),
    dispose: () => net.dispose(),
  };
}

/**
 * MemAE as Gong et al. publish it (ICCV 2019, github.com/donggong1/memae-anomaly-detection),
 * as a 2-D image model: per-position queries, softmax addressing with hard shrinkage, entropy loss;
 * score = mean per-pixel residual norm in [−1, 1] units.
 */
export const memaePlugin: ModelPlugin<MemaeConfig> = {
  name: 'memae',
  title: 'MemAE (Gong et al., ICCV 2019)',
  scoreName: 'residual-norm',
  configSchema: memaeConfigSchema,
  presetConfig: memaePresetConfig,
  recipe: recipeOf,
  create: (config, seed) => createMemae(config, seed),
};

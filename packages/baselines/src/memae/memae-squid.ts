import { Rng, tf } from '@squid-ad/backend';
import { cosineLr, mse } from '@squid-ad/gan-core';
import { type ModelInstance, type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { adamTrainer, type BatchLoss } from '../adam-trainer.js';
import { type MemaeSquidConfig, memaeSquidConfigSchema, memaeSquidPresetConfig } from './config.js';
import { meanAbsError } from './residual-score.js';
import { SquidMemae } from './squid-network.js';

/**
 * The SQUID authors' MemAE loss on a batch in [0, 1] (main_baseline.py `train`):
 * `recon_w · MSE(x̂, x)`, no entropy term. Train mode (BatchNorm on batch statistics, updating
 * the running ones unless `updateStats` is false).
 */
export function memaeSquidLoss(
  net: SquidMemae,
  images: tf.Tensor4D,
  reconWeight: number,
  updateStats = true,
): BatchLoss {
  return tf.tidy(() => {
    const { recon } = net.apply(images, { stats: 'batch', update: updateStats });
    const loss = tf.mul(mse(recon, images), reconWeight) as tf.Scalar;
    // Logged as the official `recon_loss`: already weighted.
    return { objective: loss, terms: { recon: loss } };
  });
}

/** A `memae-squid` model: {@link SquidMemae} with its loss, score, Adam and cosine schedule. */
export function createMemaeSquid(config: MemaeSquidConfig, seed: number): ModelInstance {
  const c = memaeSquidConfigSchema.parse(config);
  const net = new SquidMemae(c.network, c.imageSize, Rng.fromSeed(seed));
  return {
    state: () => net.state(),
    infer(images) {
      return tf.tidy(() => {
        const { recon } = net.apply(images, { stats: 'running' });
        return { recon, raw: meanAbsError(recon, images) };
      });
    },
    createTrainer: () =>
      adamTrainer({
        model: net,
        adam: { ...c.optimizer, betas: [...c.optimizer.betas] },
        lrAt: (epoch) => cosineLr(c.optimizer.lr, epoch, c.schedule.tMax, c.schedule.minLrFactor),
        loss: (images) => memaeSquidLoss(net, images, c.loss.reconWeight),
      }),
    dispose: () => net.dispose(),
  };
}

/**
 * The MemAE the SQUID authors ran for their paper's comparison (github.com/tiangexiang/SQUID,
 * commit 0db55e0: models/baseline.py, main_baseline.py, configs/baseline_zhang.py): SQUID's
 * backbone without skips, one whole-bottleneck query, 2000 slots, raw-dot-product hard
 * shrinkage, 10 × MSE; score = mean absolute error in [0, 1].
 */
export const memaeSquidPlugin: ModelPlugin<MemaeSquidConfig> = {
  name: 'memae-squid',
  title: "MemAE, the SQUID authors' variant (Xiang et al., CVPR 2023 repository)",
  scoreName: 'mean-abs-error',
  configSchema: memaeSquidConfigSchema,
  presetConfig: memaeSquidPresetConfig,
  recipe: recipeOf,
  create: (config, seed) => createMemaeSquid(config, seed),
};

import { type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { type FAnoGanConfig, fAnoGanConfigSchema, fAnoGanPresetConfig } from './config.js';
import { FAnoGanModel } from './model.js';

/** f-AnoGAN as a squid model: `squid-train --model f-anogan`. */
export const fAnoGanPlugin: ModelPlugin<FAnoGanConfig> = {
  name: 'f-anogan',
  title: 'f-AnoGAN (Schlegl et al., Medical Image Analysis 2019)',
  scoreName: 'izif',
  configSchema: fAnoGanConfigSchema,
  presetConfig: fAnoGanPresetConfig,
  recipe: recipeOf,
  create: (config, seed) => new FAnoGanModel(config, seed),
  // Stage 1 is the first ganFraction of the run's iterations: lengthening a run part-way would
  // send it back from the encoder stage to WGAN-GP training.
  fixedLength: (c) =>
    c.ganFraction > 0 && c.ganFraction < 1
      ? `its WGAN-GP stage is the first ganFraction = ${c.ganFraction} of the run's iterations, the encoder stage the rest`
      : undefined,
};

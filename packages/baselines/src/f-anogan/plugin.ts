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
};

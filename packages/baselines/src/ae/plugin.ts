import { type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { type AeConfig, aeConfigSchema, aePresetConfig } from './config.js';
import { AeModel } from './model.js';

/** `squid-train --model ae`: the convolutional auto-encoder, scored by reconstruction MSE. */
export const aePlugin: ModelPlugin<AeConfig> = {
  name: 'ae',
  title: "Convolutional auto-encoder (GANomaly's DCGAN encoder–decoder, Akçay et al. 2018)",
  scoreName: 'recon-mse',
  configSchema: aeConfigSchema,
  presetConfig: aePresetConfig,
  recipe: recipeOf,
  create: (config, seed) => new AeModel(config, seed),
};

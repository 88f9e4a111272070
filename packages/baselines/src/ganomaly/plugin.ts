import { type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { type GanomalyConfig, ganomalyConfigSchema, ganomalyPresetConfig } from './config.js';
import { GanomalyModel } from './model.js';

/**
 * `squid-train --model ganomaly`: GANomaly (Akçay et al., ACCV 2018) as the official code trains it
 * (samet-akcay/ganomaly); raw score = mean over nz of (z − ẑ)², higher = more anomalous.
 */
export const ganomalyPlugin: ModelPlugin<GanomalyConfig> = {
  name: 'ganomaly',
  title: 'GANomaly (Akçay et al., ACCV 2018)',
  scoreName: 'latent-distance',
  configSchema: ganomalyConfigSchema,
  presetConfig: ganomalyPresetConfig,
  recipe: recipeOf,
  create: (config, seed) => new GanomalyModel(config, seed),
};

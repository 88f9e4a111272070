import { type ModelPlugin, recipeOf } from '@squid-ad/model-api';
import { type VaeConfig, vaeConfigSchema, vaePresetConfig } from './config.js';
import { VaeModel } from './model.js';

/** `squid-train --model vae`: the variational auto-encoder, scored by its negative ELBO. */
export const vaePlugin: ModelPlugin<VaeConfig> = {
  name: 'vae',
  title: "Variational auto-encoder (Kingma & Welling 2014) on GANomaly's DCGAN encoder–decoder",
  scoreName: 'neg-elbo',
  configSchema: vaeConfigSchema,
  presetConfig: vaePresetConfig,
  recipe: recipeOf,
  create: (config, seed) => new VaeModel(config, seed),
};

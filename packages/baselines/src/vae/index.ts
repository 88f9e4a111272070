// The variational auto-encoder baseline (`--model vae`).
export { type VaeConfig, type VaeConfigInput, vaeConfigSchema, vaePresetConfig } from './config.js';
export { klToStandardNormal, reparameterise } from './gaussian-latent.js';
export { type Posterior, VaeModel } from './model.js';
export { type NegElboTerms, negElbo } from './neg-elbo.js';
export { vaePlugin } from './plugin.js';

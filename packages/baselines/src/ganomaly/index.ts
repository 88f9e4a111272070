// GANomaly (Akçay et al., ACCV 2018) as a squid model plug-in: `squid-train --model ganomaly`.
export {
  type GanomalyConfig,
  type GanomalyConfigInput,
  ganomalyConfigSchema,
  ganomalyPresetConfig,
} from './config.js';
export {
  contextualLoss,
  discriminatorLoss,
  encoderLoss,
  featureMatchingLoss,
  latentDistance,
} from './losses.js';
export { GanomalyModel } from './model.js';
export { GanomalyDiscriminator, GanomalyGenerator, type GeneratorOutput } from './networks.js';
export { ganomalyPlugin } from './plugin.js';
export { GanomalyTrainer } from './trainer.js';

// Public API of @squid-ad/baselines: the detectors SQUID is compared with, each a
// `ModelPlugin` (see @squid-ad/model-api) that squid-train and squid-eval run like SQUID.
// A new model: a folder here with its plug-in, exported below and added to `baselineModels`.
import type { AnyModelPlugin } from '@squid-ad/model-api';
import { aePlugin } from './ae/index.js';
import { fAnoGanPlugin } from './f-anogan/index.js';
import { ganomalyPlugin } from './ganomaly/index.js';
import { memaePlugin, memaeSquidPlugin } from './memae/index.js';
import { vaePlugin } from './vae/index.js';

export { type AeConfig, aeConfigSchema, aePlugin, perImageMse } from './ae/index.js';
export { cropTo, DcganDecoder, DcganEncoder, type DcganOptions, padToPowerOfTwo } from './dcgan/index.js';
export {
  criticLoss,
  type FAnoGanConfig,
  fAnoGanConfigSchema,
  fAnoGanPlugin,
  gradientPenalty,
  izifScore,
} from './f-anogan/index.js';
export {
  type GanomalyConfig,
  ganomalyConfigSchema,
  ganomalyPlugin,
  latentDistance,
} from './ganomaly/index.js';
export {
  type MemaeConfig,
  type MemaeSquidConfig,
  memaeConfigSchema,
  memaePlugin,
  memaeSquidConfigSchema,
  memaeSquidPlugin,
} from './memae/index.js';
export { klToStandardNormal, negElbo, type VaeConfig, vaeConfigSchema, vaePlugin } from './vae/index.js';

/** Every baseline, in the order of the paper's Table 1 and Figure 6: AE, VAE, MemAE (both), GANomaly, f-AnoGAN. */
export const baselineModels: AnyModelPlugin[] = [
  aePlugin,
  vaePlugin,
  memaePlugin,
  memaeSquidPlugin,
  ganomalyPlugin,
  fAnoGanPlugin,
];

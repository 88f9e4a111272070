// The convolutional auto-encoder baseline (`--model ae`).
export {
  type AeConfig,
  type AeConfigInput,
  aeConfigSchema,
  aePresetConfig,
  type DcganAdamConfig,
  type DcganNetworkConfig,
  dcganAdamSchema,
  dcganNetworkSchema,
} from './config.js';
export { AeModel } from './model.js';
export { aePlugin } from './plugin.js';
export { perImageMse } from './recon-error.js';

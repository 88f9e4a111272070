// The two MemAE plug-ins: `memae` (Gong et al., ICCV 2019) and `memae-squid` (the SQUID
// authors' own variant, which produced the MemAE row of the SQUID paper).
export {
  type MemaeConfig,
  type MemaeConfigInput,
  type MemaeSquidConfig,
  type MemaeSquidConfigInput,
  memaeConfigSchema,
  memaePresetConfig,
  memaeSquidConfigSchema,
  memaeSquidPresetConfig,
} from './config.js';
export { createMemae, memaePlugin } from './memae.js';
export { createMemaeSquid, memaeSquidPlugin } from './memae-squid.js';

import { Rng } from '@squid-ad/backend';
import { parseSquidConfig, type SquidConfig, type SquidConfigInput } from './config.js';
import { SquidDiscriminator } from './discriminator.js';
import { SquidGenerator } from './generator.js';
import { initLikePyTorch } from './torch-init.js';

/** A generator and its discriminator, built from one config. */
export interface SquidModel {
  config: SquidConfig;
  generator: SquidGenerator;
  discriminator: SquidDiscriminator;
  dispose(): void;
}

/**
 * Builds a freshly initialised model. `init` a seed: the official code's initial weights for
 * `torch.manual_seed(seed)` (see {@link initLikePyTorch}), what training uses. `init` an Rng:
 * PyTorch's initialisation distributions drawn from it (for weights that are loaded next, tests).
 */
export function createSquidModel(config: SquidConfig | SquidConfigInput, init: Rng | number = 0): SquidModel {
  const parsed = parseSquidConfig(config);
  const rng = typeof init === 'number' ? Rng.fromSeed(init) : init;
  const generator = new SquidGenerator(parsed, rng.fork());
  const discriminator = new SquidDiscriminator(parsed, rng.fork());
  const model: SquidModel = {
    config: parsed,
    generator,
    discriminator,
    dispose() {
      generator.dispose();
      discriminator.dispose();
    },
  };
  if (typeof init === 'number') initLikePyTorch(model, init);
  return model;
}

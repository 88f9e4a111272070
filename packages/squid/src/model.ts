import { Rng } from '@squid-ad/backend';
import { parseSquidConfig, type SquidConfig, type SquidConfigInput } from './config.js';
import { SquidDiscriminator } from './discriminator.js';
import { SquidGenerator } from './generator.js';

/** A generator and its discriminator, built from one config. */
export interface SquidModel {
  config: SquidConfig;
  generator: SquidGenerator;
  discriminator: SquidDiscriminator;
  dispose(): void;
}

/** Builds a freshly initialised model (PyTorch-style initialisation drawn from `rng`). */
export function createSquidModel(
  config: SquidConfig | SquidConfigInput,
  rng: Rng = Rng.fromSeed(0),
): SquidModel {
  const parsed = parseSquidConfig(config);
  const generator = new SquidGenerator(parsed, rng.fork());
  const discriminator = new SquidDiscriminator(parsed, rng.fork());
  return {
    config: parsed,
    generator,
    discriminator,
    dispose() {
      generator.dispose();
      discriminator.dispose();
    },
  };
}

import { getPreset } from '../presets.js';
import { parseRunConfig, type SquidRunConfig } from './run-config.js';

/** The tiny preset cut to the bone for tests: batch 2, a few iterations, almost no validation. */
export function tinyRunConfig(o: {
  epochs: number;
  iterations?: number;
  nCritic?: number;
  validateEvery?: number;
}): SquidRunConfig {
  const squid = getPreset('tiny');
  squid.train.epochs = o.epochs;
  squid.train.batchSize = 2;
  squid.train.iterationsPerEpoch = o.iterations ?? 1;
  squid.train.nCritic = o.nCritic ?? 1;
  squid.train.seed = 3;
  return parseRunConfig(
    {
      squid,
      run: {
        normImages: 2,
        validateEvery: o.validateEvery ?? 1,
        sampleEvery: 1000,
        data: { trainLength: 8, valNormal: 2, valAbnormal: 2 },
      },
    },
    'test config',
  ) as SquidRunConfig;
}

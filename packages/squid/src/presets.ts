import { parseSquidConfig, type SquidConfig } from './config.js';

export type PresetName = 'digitanatomy' | 'zhanglab' | 'chexpert' | 'tiny';

const chestModel = {
  imageSize: 128,
  numPatch: 2,
  level: 4,
  initialCombine: 2,
  ops: ['concat', 'concat', 'none', 'none'] as ('concat' | 'none')[],
  decoderMemory: [
    null,
    null,
    { type: 'MemoryMatrixBlock' as const, multiplier: 64, numMemory: 4 },
    { type: 'MemoryMatrixBlock' as const, multiplier: 16, numMemory: 4 },
  ],
};
const chestLoss = { recon: 10, teacher: 0.01, dist: 0.001, g: 0.005, d: 0.005 };
const chestAugmentation = { kind: 'affine' as const, translate: 0.05, scaleMin: 0.95, scaleMax: 1.05 };

/** The official configurations (reference §5) and `tiny`, the DigitAnatomy structure at test size. */
export const presets: Record<PresetName, SquidConfig> = {
  digitanatomy: parseSquidConfig(
    {
      preset: 'digitanatomy',
      model: {},
      schedule: { tMax: 300, minLrFactor: 0.01 },
      train: { nCritic: 1, batchSize: 16, epochs: 200 },
      data: { dataset: 'digitanatomy', augmentation: { kind: 'random-resized-crop', scale: [0.6, 1.3] } },
    },
    'preset digitanatomy',
  ),
  zhanglab: parseSquidConfig(
    {
      preset: 'zhanglab',
      model: chestModel,
      loss: chestLoss,
      schedule: { tMax: 300, minLrFactor: 0.1 },
      train: { nCritic: 2, batchSize: 16, epochs: 200 },
      data: { dataset: 'zhanglab', augmentation: chestAugmentation },
    },
    'preset zhanglab',
  ),
  chexpert: parseSquidConfig(
    {
      preset: 'chexpert',
      model: chestModel,
      loss: chestLoss,
      schedule: { tMax: 300, minLrFactor: 0.5 },
      train: { nCritic: 2, batchSize: 16, epochs: 200, iterationsPerEpoch: 84 },
      data: { dataset: 'chexpert', augmentation: chestAugmentation },
    },
    'preset chexpert',
  ),
  // The visible parity fixture's structure: 48 px, 3×3 patches of 16 px, widths 8..128.
  tiny: parseSquidConfig(
    {
      preset: 'tiny',
      model: {
        imageSize: 48,
        featuresRoot: 8,
        numSlots: 16,
        memNumSlots: 16,
        decoderMemory: [
          null,
          { type: 'MemoryMatrixBlockV3', multiplier: 64, numMemory: 9 },
          { type: 'MemoryMatrixBlockV3', multiplier: 16, numMemory: 9 },
        ],
      },
      train: { nCritic: 1, batchSize: 4, epochs: 2 },
      data: { dataset: 'digitanatomy', augmentation: { kind: 'random-resized-crop', scale: [0.6, 1.3] } },
    },
    'preset tiny',
  ),
};

/** A preset by name, deep-copied so callers may modify it. */
export function getPreset(name: string): SquidConfig {
  if (!(name in presets))
    throw new Error(`unknown preset "${name}"; choose one of ${Object.keys(presets).join(', ')}`);
  return structuredClone(presets[name as PresetName]);
}

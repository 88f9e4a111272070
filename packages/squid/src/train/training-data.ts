import {
  type AffineOptions,
  cheXpertDataset,
  digitAnatomyDataset,
  type ImageDataset,
  zhangLabDataset,
} from '@squid-ad/datasets';
import type { AnyModelPlugin } from '@squid-ad/model-api';
import type { SquidConfig } from '../config.js';
import { getPreset } from '../presets.js';
import { squidModel } from '../squid-plugin.js';
import { modelConfigOf, pluginOf, type RunConfig } from './run-config.js';

/** The data a training run reads. */
export interface TrainingData {
  /** Normal (or contaminated) training images. */
  train: ImageDataset;
  /** Labelled validation images; null = no AUC, only μ/σ. */
  val: ImageDataset | null;
  /** Per-sample augmentation of the batch stream (DigitAnatomy crops its digits itself). */
  augment: AffineOptions | false;
}

/**
 * Builds the training and validation sets a run config names. `log` receives the files skipped
 * under `run.data.skipBad` (one line each, with the reason).
 */
/**
 * The data recipe (data set, augmentation) a model trains on: its config's own when it carries
 * one (SQUID's does: it may be a custom one), otherwise its preset's, the same stream as SQUID's.
 */
export function dataRecipeOf(plugin: AnyModelPlugin, modelConfig: unknown): SquidConfig['data'] {
  return (
    (modelConfig as { data?: SquidConfig['data'] }).data ?? getPreset(plugin.recipe(modelConfig).preset).data
  );
}

export async function trainingData(
  config: RunConfig,
  log?: (line: string) => void,
  models: readonly AnyModelPlugin[] = [squidModel],
): Promise<TrainingData> {
  const { run } = config;
  const modelConfig = modelConfigOf(config);
  const plugin = pluginOf(config, models);
  const { preset, imageSize: size, train: schedule } = plugin.recipe(modelConfig);
  const data = dataRecipeOf(plugin, modelConfig);
  const aug = data.augmentation;
  const augment: AffineOptions | false =
    aug.kind === 'affine' ? { translate: aug.translate, scale: [aug.scaleMin, aug.scaleMax] } : false;
  const d = run.data;
  switch (data.dataset) {
    case 'digitanatomy': {
      if (size % 3 !== 0) throw new Error(`DigitAnatomy needs an image size divisible by 3, got ${size}`);
      const cell = size / 3;
      // The official per-digit crop; without it ('none', 'affine') each cell is the whole digit.
      const scale: [number, number] = aug.kind === 'random-resized-crop' ? aug.scale : [1, 1];
      const train = digitAnatomyDataset({
        split: 'train',
        seed: schedule.seed,
        cell,
        scale,
        length: d.trainLength,
        // Abnormal items of the four types, drawn by the seed (the paper's Figure 10).
        contamination: d.contamination,
      });
      const val =
        d.valNormal > 0 && d.valAbnormal > 0
          ? digitAnatomyDataset({
              split: 'test',
              seed: d.valSeed,
              cell,
              normal: d.valNormal,
              abnormal: d.valAbnormal,
            })
          : null;
      return { train, val, augment };
    }
    case 'zhanglab':
    case 'chexpert': {
      if (!d.dir) throw new Error(`preset ${preset} needs --data DIR (the ${data.dataset} root)`);
      const holdout = { normal: d.holdoutNormal, abnormal: d.holdoutAbnormal };
      const common = {
        imageSize: size,
        seed: schedule.seed,
        contamination: d.contamination,
        holdout,
        onError: d.skipBad ? ('skip' as const) : ('throw' as const),
        ...(log ? { log } : {}),
      };
      const make = data.dataset === 'zhanglab' ? zhangLabDataset : cheXpertDataset;
      const train = await make(d.dir, { ...common, split: 'train' });
      const val =
        d.holdoutNormal > 0 && d.holdoutAbnormal > 0 ? await make(d.dir, { ...common, split: 'val' }) : null;
      return { train, val, augment };
    }
  }
}

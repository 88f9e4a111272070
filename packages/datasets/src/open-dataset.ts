import { type CheXpertOptions, cheXpertDataset } from './chexpert-dataset.js';
import type { ImageDataset } from './dataset.js';
import { digitAnatomyDataset } from './digit-anatomy.js';
import { type FolderDatasetOptions, folderDataset } from './folder-dataset.js';
import { mixSeed } from './seed.js';
import { type ZhangLabOptions, zhangLabDataset } from './zhanglab-dataset.js';

/** The data sets of the SQUID presets, plus a generic labelled folder. */
export type DatasetKind = 'digitanatomy' | 'zhanglab' | 'chexpert' | 'folder';

/** Image side S of each preset (official configs). */
export const PRESET_IMAGE_SIZE: Record<Exclude<DatasetKind, 'folder'>, number> = {
  digitanatomy: 96,
  zhanglab: 128,
  chexpert: 128,
};

/** Options of {@link openDataset}: the loader's own options plus `root` for file data sets. */
export type OpenDatasetOptions = { root?: string; split: 'train' | 'val' | 'test'; seed?: number } & Omit<
  ZhangLabOptions & CheXpertOptions & FolderDatasetOptions,
  'split'
> & { length?: number; normal?: number; abnormal?: number; cell?: number };

/**
 * One entry point for trainers: `train` (normal images, plus `contamination`), `val` and `test`
 * (labelled). DigitAnatomy `val` is a fixed set drawn with another seed than `test` (both from the
 * test digit instances); for `folder`, `val` is the hold-out and `test` is every image.
 */
export async function openDataset(kind: DatasetKind, options: OpenDatasetOptions): Promise<ImageDataset> {
  const { root, split } = options;
  if (kind === 'digitanatomy') {
    const seed = options.seed ?? 0;
    const cell = options.cell ?? PRESET_IMAGE_SIZE.digitanatomy / 3;
    if (split === 'train')
      return digitAnatomyDataset({
        split: 'train',
        seed,
        cell,
        length: options.length,
        contamination: options.contamination,
      });
    return digitAnatomyDataset({
      split: 'test',
      cell,
      seed: split === 'val' ? mixSeed(seed, 0x7a1) : seed,
      normal: options.normal,
      abnormal: options.abnormal,
    });
  }
  if (!root) throw new Error(`openDataset('${kind}'): option 'root' (the data set folder) is required`);
  if (kind === 'zhanglab') return zhangLabDataset(root, { ...options, split });
  if (kind === 'chexpert') return cheXpertDataset(root, { ...options, split });
  if (kind === 'folder') return folderDataset(root, { ...options, split: split === 'test' ? 'all' : split });
  throw new Error(`openDataset: unknown data set kind '${kind}' (digitanatomy, zhanglab, chexpert, folder)`);
}

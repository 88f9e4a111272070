import { resolve } from 'node:path';
import { z } from 'zod';
import type { DatasetItem, ImageDataset } from './dataset.js';
import { type FileDatasetOptions, fileDataset } from './file-dataset.js';
import { isDir, listFiles } from './list-files.js';
import { carveTraining, type SplitOptions, splitOptionsSchema } from './splits.js';

const folderSchema = z.object({
  normalDir: z.string().default('normal'),
  abnormalDir: z.string().default('abnormal'),
  /** `all`: both classes; `train`: normal images (+ contamination, − hold-out); `val`: the hold-out. */
  split: z.enum(['all', 'train', 'val']).default('all'),
});
export type FolderDatasetOptions = z.input<typeof folderSchema> & SplitOptions & FileDatasetOptions;

/** The images of a `root/{normal,abnormal}/**` tree, labelled by folder. */
export async function folderItems(
  root: string,
  options: { normalDir?: string; abnormalDir?: string } = {},
): Promise<{ normal: DatasetItem[]; abnormal: DatasetItem[] }> {
  const normalDir = options.normalDir ?? 'normal';
  const abnormalDir = options.abnormalDir ?? 'abnormal';
  const layout = `expected layout:\n  ${root}/\n    ${normalDir}/**/*.{png,jpg,dcm}\n    ${abnormalDir}/**/*.{png,jpg,dcm}`;
  if (!(await isDir(root))) throw new Error(`folder dataset: ${root} is not a directory; ${layout}`);
  const n = resolve(root, normalDir);
  const a = resolve(root, abnormalDir);
  const [hasN, hasA] = [await isDir(n), await isDir(a)];
  if (!hasN && !hasA)
    throw new Error(`folder dataset: ${root} has neither ${normalDir}/ nor ${abnormalDir}/; ${layout}`);
  const normal = hasN ? (await listFiles(n)).map((path) => ({ path, label: 0 as const })) : [];
  const abnormal = hasA ? (await listFiles(a)).map((path) => ({ path, label: 1 as const })) : [];
  return { normal, abnormal };
}

/** A generic labelled folder (`normal/` and `abnormal/`, names configurable, searched recursively). */
export async function folderDataset(root: string, options: FolderDatasetOptions = {}): Promise<ImageDataset> {
  const o = folderSchema.parse(options);
  const split = splitOptionsSchema.parse(options);
  const { normal, abnormal } = await folderItems(root, o);
  let items: DatasetItem[];
  if (o.split === 'all') items = [...normal, ...abnormal];
  else {
    const carved = carveTraining(normal, abnormal, split, `folder dataset ${root}`);
    items = o.split === 'train' ? carved.train : carved.holdout;
  }
  if (items.length === 0) throw new Error(`folder dataset: ${root} has no images for split '${o.split}'`);
  return fileDataset(`folder:${root}:${o.split}`, items, options);
}

import { join } from 'node:path';
import { z } from 'zod';
import type { DatasetItem, ImageDataset } from './dataset.js';
import { type FileDatasetOptions, fileDataset } from './file-dataset.js';
import { isDir, listFiles } from './list-files.js';
import { carveTraining, type SplitOptions, splitOptionsSchema } from './splits.js';

/** `published`: chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}; `squid`: {train,val,test}/{normal_256,pneumonia_256}. */
export type ZhangLabLayout = 'published' | 'squid';
export type SplitName = 'train' | 'val' | 'test';

const CLASS_DIRS: Record<ZhangLabLayout, [string, string]> = {
  published: ['NORMAL', 'PNEUMONIA'],
  squid: ['normal_256', 'pneumonia_256'],
};

const EXPECTED = (root: string) =>
  `expected one of:\n  ${root}/chest_xray/{train,val,test}/{NORMAL,PNEUMONIA}/*.jpeg   (published; chest_xray/ optional)\n  ${root}/{train,val,test}/{normal_256,pneumonia_256}/*.png   (SQUID split)`;

/** Items of every ZhangLab split present under `root`, per class. */
export async function zhangLabItems(root: string): Promise<{
  layout: ZhangLabLayout;
  splits: Partial<Record<SplitName, { normal: DatasetItem[]; abnormal: DatasetItem[] }>>;
}> {
  if (!(await isDir(root))) throw new Error(`ZhangLab: ${root} is not a directory; ${EXPECTED(root)}`);
  const base = (await isDir(join(root, 'chest_xray'))) ? join(root, 'chest_xray') : root;
  let layout: ZhangLabLayout | undefined;
  for (const l of ['published', 'squid'] as const) {
    for (const s of ['train', 'val', 'test']) {
      if (!layout && (await isDir(join(base, s, CLASS_DIRS[l][0])))) layout = l;
    }
  }
  if (!layout) throw new Error(`ZhangLab: no known layout under ${root}; ${EXPECTED(root)}`);
  const [nd, ad] = CLASS_DIRS[layout];
  const splits: Partial<Record<SplitName, { normal: DatasetItem[]; abnormal: DatasetItem[] }>> = {};
  for (const s of ['train', 'val', 'test'] as const) {
    const [n, a] = [join(base, s, nd), join(base, s, ad)];
    if (!(await isDir(n)) && !(await isDir(a))) continue;
    splits[s] = {
      normal: (await isDir(n)) ? (await listFiles(n)).map((path) => ({ path, label: 0 as const })) : [],
      abnormal: (await isDir(a)) ? (await listFiles(a)).map((path) => ({ path, label: 1 as const })) : [],
    };
  }
  return { layout, splits };
}

const zhangSchema = z.object({
  /** `train`: normal training images (+ contamination, − hold-out); `val`: hold-out if given, else the val folder. */
  split: z.enum(['train', 'val', 'test']).default('train'),
});
export type ZhangLabOptions = z.input<typeof zhangSchema> & SplitOptions & FileDatasetOptions;

/** ZhangLab pediatric pneumonia (Kermany et al.), published or SQUID split layout (auto-detected). */
export async function zhangLabDataset(root: string, options: ZhangLabOptions = {}): Promise<ImageDataset> {
  const { split } = zhangSchema.parse(options);
  const splitOptions = splitOptionsSchema.parse(options);
  const { splits } = await zhangLabItems(root);
  const need = (s: SplitName) => {
    const got = splits[s];
    if (!got) throw new Error(`ZhangLab: split '${s}' missing under ${root}; ${EXPECTED(root)}`);
    return got;
  };
  let items: DatasetItem[];
  if (split === 'train' || (split === 'val' && splitOptions.holdout)) {
    const t = need('train');
    const carved = carveTraining(t.normal, t.abnormal, splitOptions, `ZhangLab ${root}`);
    items = split === 'train' ? carved.train : carved.holdout;
  } else {
    const s = need(split);
    items = [...s.normal, ...s.abnormal];
  }
  if (items.length === 0)
    throw new Error(`ZhangLab: split '${split}' under ${root} has no images; ${EXPECTED(root)}`);
  return fileDataset(`zhanglab:${split}`, items, options);
}

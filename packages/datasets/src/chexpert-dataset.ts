import { readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, relative, resolve } from 'node:path';
import { parse } from 'csv-parse/sync';
import { z } from 'zod';
import type { DatasetItem, ImageDataset } from './dataset.js';
import { type FileDatasetOptions, fileDataset } from './file-dataset.js';
import { isDir, listFiles } from './list-files.js';
import { carveTraining, type SplitOptions, splitOptionsSchema } from './splits.js';

// Columns that are not findings; Support Devices is not a disease, so it makes nobody abnormal.
const NON_FINDINGS = new Set([
  'Path',
  'Sex',
  'Age',
  'Frontal/Lateral',
  'AP/PA',
  'No Finding',
  'Support Devices',
]);
const REQUIRED = ['Path', 'Frontal/Lateral', 'AP/PA', 'No Finding'];

const EXPECTED = (root: string) =>
  `expected one of:\n  ${root}/train.csv, ${root}/valid.csv (+ the image folders they name)   (CheXpert CSV)\n  ${root}/{train,val,test}/{normal_256,abnormal_256}/*.png   (SQUID split)`;

const labelSchema = z.object({
  /**
   * Policy for uncertain (-1) findings: `exclude` drops images whose only findings are uncertain,
   * `positive` counts them as findings (U-Ones), `negative` ignores them (U-Zeros).
   */
  uncertain: z.enum(['exclude', 'positive', 'negative']).default('exclude'),
  /** Views kept: PA (the paper), AP, or every frontal view. */
  view: z.enum(['PA', 'AP', 'frontal']).default('PA'),
});
export type CheXpertLabelOptions = z.input<typeof labelSchema>;

/**
 * Labels of a CheXpert CSV: abnormal when any finding is positive; normal when `No Finding` is 1 and
 * nothing is positive; rows matching neither (or lateral/other views) are left out. Paths must stay
 * inside `root` (a leading `CheXpert-v1.0*` folder is dropped).
 */
export async function readCheXpertCsv(
  csvPath: string,
  root: string,
  options: CheXpertLabelOptions = {},
): Promise<{ normal: DatasetItem[]; abnormal: DatasetItem[] }> {
  const { uncertain, view } = labelSchema.parse(options);
  let rows: Record<string, string>[];
  try {
    rows = parse(await readFile(csvPath, 'utf8'), { columns: true, skip_empty_lines: true, trim: true });
  } catch (err) {
    throw new Error(`${csvPath}: cannot read CheXpert CSV (${(err as Error).message})`);
  }
  const header = rows.length ? Object.keys(rows[0]) : [];
  const missing = REQUIRED.filter((c) => !header.includes(c));
  if (rows.length && missing.length) throw new Error(`${csvPath}: missing column(s) ${missing.join(', ')}`);
  const findings = header.filter((c) => !NON_FINDINGS.has(c));
  const rootAbs = resolve(root);
  const normal: DatasetItem[] = [];
  const abnormal: DatasetItem[] = [];
  rows.forEach((row, i) => {
    if (row['Frontal/Lateral'] !== 'Frontal') return;
    if (view !== 'frontal' && row['AP/PA'] !== view) return;
    const path = insideRoot(rootAbs, row.Path, `${csvPath} line ${i + 2}`);
    const values = findings.map((c) => Number.parseFloat(row[c]));
    const positive = values.some((v) => v === 1 || (v === -1 && uncertain === 'positive'));
    const unsure = values.some((v) => v === -1);
    if (positive) abnormal.push({ path, label: 1 });
    else if (uncertain === 'exclude' && unsure) return;
    else if (Number.parseFloat(row['No Finding']) === 1) normal.push({ path, label: 0 });
  });
  return { normal, abnormal };
}

function insideRoot(rootAbs: string, raw: string | undefined, where: string): string {
  if (!raw) throw new Error(`${where}: empty Path`);
  const rel = raw.replace(/\\/g, '/');
  if (isAbsolute(rel) || /^[a-zA-Z]:/.test(rel)) throw new Error(`${where}: absolute path ${raw} refused`);
  const parts = rel.split('/');
  if (parts[0].startsWith('CheXpert-v1.0') || parts[0] === basename(rootAbs)) parts.shift();
  const full = resolve(rootAbs, ...parts);
  const r = relative(rootAbs, full);
  if (r.startsWith('..') || isAbsolute(r))
    throw new Error(`${where}: path ${raw} escapes the dataset root ${rootAbs}`);
  return full;
}

/** `csv` (train.csv/valid.csv) or `squid` ({train,val,test}/{normal_256,abnormal_256}). */
export type CheXpertLayout = 'csv' | 'squid';

/** Items of every CheXpert split present under `root`, per class. */
export async function cheXpertItems(
  root: string,
  options: CheXpertLabelOptions = {},
): Promise<{
  layout: CheXpertLayout;
  splits: Partial<Record<'train' | 'val' | 'test', { normal: DatasetItem[]; abnormal: DatasetItem[] }>>;
}> {
  if (!(await isDir(root))) throw new Error(`CheXpert: ${root} is not a directory; ${EXPECTED(root)}`);
  const exists = (p: string) =>
    stat(p).then(
      (s) => s.isFile(),
      () => false,
    );
  const [train, valid] = [join(root, 'train.csv'), join(root, 'valid.csv')];
  if ((await exists(train)) || (await exists(valid))) {
    const splits: Awaited<ReturnType<typeof cheXpertItems>>['splits'] = {};
    if (await exists(train)) splits.train = await readCheXpertCsv(train, root, options);
    if (await exists(valid)) {
      // CheXpert's public test labels are not in the small release: valid.csv serves as val and test.
      splits.val = await readCheXpertCsv(valid, root, options);
      splits.test = splits.val;
    }
    return { layout: 'csv', splits };
  }
  const splits: Awaited<ReturnType<typeof cheXpertItems>>['splits'] = {};
  for (const s of ['train', 'val', 'test'] as const) {
    const [n, a] = [join(root, s, 'normal_256'), join(root, s, 'abnormal_256')];
    if (!(await isDir(n)) && !(await isDir(a))) continue;
    splits[s] = {
      normal: (await isDir(n)) ? (await listFiles(n)).map((path) => ({ path, label: 0 as const })) : [],
      abnormal: (await isDir(a)) ? (await listFiles(a)).map((path) => ({ path, label: 1 as const })) : [],
    };
  }
  if (Object.keys(splits).length === 0)
    throw new Error(`CheXpert: no known layout under ${root}; ${EXPECTED(root)}`);
  return { layout: 'squid', splits };
}

const chexSchema = z.object({
  /** `train`: normal PA training images (+ contamination, − hold-out); `val`: hold-out if given, else valid.csv / val/. */
  split: z.enum(['train', 'val', 'test']).default('train'),
});
export type CheXpertOptions = z.input<typeof chexSchema> &
  CheXpertLabelOptions &
  SplitOptions &
  FileDatasetOptions;

/** CheXpert chest radiographs from the official CSVs or the SQUID split layout (auto-detected). */
export async function cheXpertDataset(root: string, options: CheXpertOptions = {}): Promise<ImageDataset> {
  const { split } = chexSchema.parse(options);
  const splitOptions = splitOptionsSchema.parse(options);
  const { splits } = await cheXpertItems(root, options);
  const need = (s: 'train' | 'val' | 'test') => {
    const got = splits[s];
    if (!got) throw new Error(`CheXpert: split '${s}' missing under ${root}; ${EXPECTED(root)}`);
    return got;
  };
  let items: DatasetItem[];
  if (split === 'train' || (split === 'val' && splitOptions.holdout)) {
    const t = need('train');
    const carved = carveTraining(t.normal, t.abnormal, splitOptions, `CheXpert ${root}`);
    items = split === 'train' ? carved.train : carved.holdout;
  } else {
    const s = need(split);
    items = [...s.normal, ...s.abnormal];
  }
  if (items.length === 0)
    throw new Error(`CheXpert: split '${split}' under ${root} has no images; ${EXPECTED(root)}`);
  return fileDataset(`chexpert:${split}`, items, options);
}

import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { EvalSplit, LoadImage } from './deps.js';
import { expandInputs } from './expand-inputs.js';

/** Class folder names read as normal; every other class folder is an anomaly type. */
const NORMAL = new Set(['normal', 'good', 'healthy', '0']);
/** Class folder names that mean "anomalous" without naming a type. */
const GENERIC_ANOMALY = new Set(['abnormal', 'anomalous', 'anomaly', '1']);

/**
 * A split laid out as `DIR/SPLIT/<class>/**`: `NORMAL`/`normal`/`good` are label 0, every other
 * class folder is label 1 with its name as the anomaly type (ZhangLab: NORMAL, PNEUMONIA).
 */
export async function openFolderSplit(
  dataDir: string,
  split: string,
  size: number,
  loadImage: LoadImage,
): Promise<EvalSplit> {
  const root = join(dataDir, split);
  const info = await stat(root).catch(() => null);
  if (!info?.isDirectory()) throw new Error(`${root}: no such split directory`);
  const classes = (await readdir(root, { withFileTypes: true }))
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort();
  if (classes.length === 0)
    throw new Error(`${root}: no class folders (expected e.g. NORMAL/ and PNEUMONIA/)`);
  const items: Array<{ path: string; label: 0 | 1; type?: string }> = [];
  for (const name of classes) {
    const { files } = await expandInputs([join(root, name)]);
    const lower = name.toLowerCase();
    const label = NORMAL.has(lower) ? 0 : 1;
    const type = label === 1 && !GENERIC_ANOMALY.has(lower) ? name : undefined;
    for (const path of files) items.push(type ? { path, label, type } : { path, label });
  }
  return { items, load: (i) => loadImage(items[i].path, { size }) };
}

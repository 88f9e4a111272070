import { readFile } from 'node:fs/promises';
import { cheXpertItems } from './chexpert-dataset.js';
import type { DatasetItem } from './dataset.js';
import { DEFAULT_MAX_PIXELS, type Decoder, decodeImageAsync } from './decode-image.js';
import { folderItems } from './folder-dataset.js';
import { BadImageError } from './grey-image.js';
import { zhangLabItems } from './zhanglab-dataset.js';

export type CheckLayout = 'folder' | 'zhanglab' | 'chexpert';

/** What `squid-data check` found. */
export interface CheckReport {
  root: string;
  layout: string;
  /** Image count per split, then per class (`normal`, `abnormal`). */
  counts: Record<string, { normal: number; abnormal: number }>;
  /** Decoded sizes of the readable images (null when none). */
  size: { minWidth: number; maxWidth: number; minHeight: number; maxHeight: number } | null;
  /** Every unusable file with the reason. */
  bad: { path: string; reason: string }[];
}

type Splits = Partial<Record<string, { normal: DatasetItem[]; abnormal: DatasetItem[] }>>;

async function splitsOf(root: string, layout?: CheckLayout): Promise<{ layout: string; splits: Splits }> {
  if (layout === 'zhanglab') {
    const z = await zhangLabItems(root);
    return { layout: `zhanglab (${z.layout})`, splits: z.splits };
  }
  if (layout === 'chexpert') {
    const c = await cheXpertItems(root);
    return { layout: `chexpert (${c.layout})`, splits: c.splits };
  }
  if (layout === 'folder') return { layout: 'folder', splits: { all: await folderItems(root) } };
  const errors: string[] = [];
  for (const l of ['zhanglab', 'chexpert', 'folder'] as const) {
    try {
      return await splitsOf(root, l);
    } catch (err) {
      errors.push((err as Error).message);
    }
  }
  throw new Error(`no known dataset layout at ${root}:\n${errors.join('\n')}`);
}

/**
 * Decodes every image of a data set (layout given or detected) and reports counts, the size range
 * and every unreadable, corrupt, empty, non-image or too-large file.
 */
export async function checkDataset(
  root: string,
  options: {
    layout?: CheckLayout;
    maxPixels?: number;
    decoder?: Decoder;
    onProgress?: (done: number) => void;
  } = {},
): Promise<CheckReport> {
  const { layout, splits } = await splitsOf(root, options.layout);
  const counts: CheckReport['counts'] = {};
  const bad: CheckReport['bad'] = [];
  let size: CheckReport['size'] = null;
  const todo = new Map<string, DatasetItem>();
  for (const [name, s] of Object.entries(splits)) {
    if (!s) continue;
    counts[name] = { normal: s.normal.length, abnormal: s.abnormal.length };
    for (const item of [...s.normal, ...s.abnormal]) todo.set(item.path, item);
  }
  const paths = [...todo.keys()];
  let next = 0;
  let done = 0;
  const checkOne = async (path: string) => {
    try {
      const bytes = await readFile(path).catch((err: NodeJS.ErrnoException) => {
        throw new BadImageError(path, `cannot read file (${err.code ?? err.message})`);
      });
      const img = await decodeImageAsync(bytes, path, {
        maxPixels: options.maxPixels ?? DEFAULT_MAX_PIXELS,
        decoder: options.decoder,
      });
      size = size
        ? {
            minWidth: Math.min(size.minWidth, img.width),
            maxWidth: Math.max(size.maxWidth, img.width),
            minHeight: Math.min(size.minHeight, img.height),
            maxHeight: Math.max(size.maxHeight, img.height),
          }
        : { minWidth: img.width, maxWidth: img.width, minHeight: img.height, maxHeight: img.height };
    } catch (err) {
      if (!(err instanceof BadImageError)) throw err;
      bad.push({ path: err.path, reason: err.reason });
    }
    options.onProgress?.(++done);
  };
  // A few files in flight: native decodes (sharp) then overlap with reading and JS work.
  const worker = async () => {
    while (next < paths.length) await checkOne(paths[next++]);
  };
  await Promise.all(Array.from({ length: Math.min(4, paths.length) }, worker));
  bad.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return { root, layout, counts, size, bad };
}

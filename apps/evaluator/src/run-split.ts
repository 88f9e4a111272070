import type { EvalSplit, LoadImage, OpenSplit, RunData } from './deps.js';
import { openFolderSplit } from './folder-split.js';

/** A labelled image set as `@squid-ad/datasets` builds it (an `ImageDataset`). */
interface DatasetLike {
  items: ReadonlyArray<{ path: string; label: 0 | 1; type?: string }>;
  sample(index: number): Promise<{ image: Float32Array } | null>;
}

/** The `@squid-ad/datasets` loaders this module uses. */
export interface DatasetLoaders {
  loadImage: LoadImage;
  digitAnatomyDataset(o: {
    split: 'test';
    seed: number;
    cell: number;
    normal?: number;
    abnormal?: number;
  }): DatasetLike;
  zhangLabDataset(root: string, o: Record<string, unknown>): Promise<DatasetLike>;
  cheXpertDataset(root: string, o: Record<string, unknown>): Promise<DatasetLike>;
}

/** DigitAnatomy test set seed: its images use the test digit instances, never seen in training. */
export const DIGIT_ANATOMY_TEST_SEED = 0;

function fromDataset(ds: DatasetLike, what: string): EvalSplit {
  return {
    items: ds.items,
    load: async (i) => {
      const s = await ds.sample(i);
      if (!s) throw new Error(`${what}: ${ds.items[i].path} could not be loaded`);
      return s.image;
    },
  };
}

/**
 * Resolves `--data`/`--split` for a run: the run's own data set (DigitAnatomy generated from a
 * fixed seed; ZhangLab/CheXpert from `--data` or the run's data folder, val = the run's hold-out),
 * or any `DIR/SPLIT/<class>/` folder when the run's data set is unknown.
 */
export function runSplitOpener(loaders: DatasetLoaders): OpenSplit {
  return async ({ run, dataDir, split, size, generated }) => {
    const data: RunData | undefined = run.data;
    const what = `${data?.dataset ?? 'data'} ${split} split`;
    if (generated && (data?.dataset !== 'digitanatomy' || dataDir || split !== 'test'))
      throw new Error(
        `--test-size applies to the generated DigitAnatomy test split only (this is the ${what}${dataDir ? ` in ${dataDir}` : ''})`,
      );
    switch (data?.dataset) {
      case 'digitanatomy': {
        if (dataDir) return openFolderSplit(dataDir, split, size, loaders.loadImage);
        if (size % 3 !== 0) throw new Error(`DigitAnatomy needs an image size divisible by 3, got ${size}`);
        const val = data.val ?? {};
        const seed = split === 'val' ? Number(val.valSeed ?? 7001) : DIGIT_ANATOMY_TEST_SEED;
        const counts =
          split === 'val'
            ? { normal: Number(val.valNormal ?? 100), abnormal: Number(val.valAbnormal ?? 100) }
            : (generated ?? {});
        if (split !== 'test' && split !== 'val')
          throw new Error(`DigitAnatomy has splits test and val, not '${split}'`);
        return fromDataset(
          loaders.digitAnatomyDataset({ split: 'test', seed, cell: size / 3, ...counts }),
          what,
        );
      }
      case 'zhanglab':
      case 'chexpert': {
        const root = dataDir ?? data.dir;
        if (!root) throw new Error(`the run has no data folder: pass --data DIR (the ${data.dataset} root)`);
        const val = data.val ?? {};
        const holdout =
          split === 'val'
            ? { normal: Number(val.holdoutNormal ?? 0), abnormal: Number(val.holdoutAbnormal ?? 0) }
            : undefined;
        const make = data.dataset === 'zhanglab' ? loaders.zhangLabDataset : loaders.cheXpertDataset;
        const ds = await make(root, {
          split,
          imageSize: size,
          seed: data.seed,
          ...(holdout ? { holdout } : {}),
        });
        return fromDataset(ds, what);
      }
      default:
        if (!dataDir) throw new Error('pass --data DIR (a folder with SPLIT/<class>/ image folders)');
        return openFolderSplit(dataDir, split, size, loaders.loadImage);
    }
  };
}

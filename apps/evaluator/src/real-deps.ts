import type { CliDeps, LoadImage, LoadRun } from './deps.js';
import { openFolderSplit } from './folder-split.js';

// The model and data packages are imported lazily: `compare` must work without loading
// TensorFlow.js, and a missing export becomes a clear message instead of a crash at startup.
async function importExport<T>(pkg: string, name: string): Promise<T> {
  const mod = (await import(pkg)) as Record<string, unknown>;
  if (typeof mod[name] !== 'function') throw new Error(`${pkg} does not export ${name}() in this version`);
  return mod[name] as T;
}

const SQUID = '@squid-ad/squid';
const DATASETS = '@squid-ad/datasets';

/** The CLI's real dependencies: `@squid-ad/squid` runs, `@squid-ad/datasets` image loading, the console. */
export function realDeps(): CliDeps {
  const loadImage: LoadImage = async (path, options) =>
    (await importExport<LoadImage>(DATASETS, 'loadImage'))(path, options);
  const loadRun: LoadRun = async (runDir, options) =>
    (await importExport<LoadRun>(SQUID, 'loadRun'))(runDir, options);
  return {
    loadRun,
    loadImage,
    openSplit: async ({ dataDir, split, size }) => {
      if (!dataDir) throw new Error('pass --data DIR (the folder holding the split folders)');
      return openFolderSplit(dataDir, split, size, loadImage);
    },
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
  };
}

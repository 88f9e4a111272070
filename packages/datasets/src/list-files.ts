import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Every regular, non-hidden file under `dir` (recursive), sorted by path for a stable order.
 * A symlink that resolves to nothing (dangling, or a loop of links) is listed too, so that
 * whoever reads it reports it as unreadable instead of it vanishing from the data; a symlinked
 * directory already walked (a directory loop) is not walked again.
 */
export async function listFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  const walked = new Set<string>();
  const walk = async (d: string) => {
    const real = await realpath(d).catch(() => d);
    if (walked.has(real)) return;
    walked.add(real);
    const entries = await readdir(d, { withFileTypes: true });
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) out.push(p);
      else if (e.isSymbolicLink()) {
        const s = await stat(p).catch(() => undefined);
        if (s?.isDirectory()) await walk(p);
        else if (s === undefined || s.isFile()) out.push(p);
      }
    }
  };
  await walk(dir);
  return out.sort();
}

/** True when `path` exists and is a directory. */
export async function isDir(path: string): Promise<boolean> {
  return (await stat(path).catch(() => undefined))?.isDirectory() ?? false;
}

import { readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';

/** Extensions picked up when a directory is given (a file named explicitly is always tried). */
export const IMAGE_EXTENSIONS = new Set(['.png', '.jpg', '.jpeg', '.dcm', '.dicom']);

/** Why a path given on the command line cannot be read, in words. */
const REASONS: Record<string, string> = {
  ELOOP: 'symlink loop (too many levels of symbolic links)',
  EACCES: 'permission denied',
  ENOTDIR: 'a parent of it is not a directory',
};

/**
 * Files to score from the command line: files as given, directories walked recursively
 * (sorted, hidden entries skipped). Paths that do not exist come back in `missing`; paths that
 * exist but cannot be read (a symlink loop, no permission) in `unreadable`, with the reason.
 */
export async function expandInputs(inputs: readonly string[]): Promise<{
  files: string[];
  missing: string[];
  unreadable: { path: string; reason: string }[];
}> {
  const files: string[] = [];
  const missing: string[] = [];
  const unreadable: { path: string; reason: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const e of entries) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (IMAGE_EXTENSIONS.has(extname(e.name).toLowerCase())) files.push(p);
    }
  };
  for (const input of inputs) {
    let info: Awaited<ReturnType<typeof stat>>;
    try {
      info = await stat(input);
    } catch (err) {
      const e = err as NodeJS.ErrnoException;
      if (e.code === 'ENOENT') missing.push(input);
      else unreadable.push({ path: input, reason: REASONS[e.code ?? ''] ?? e.message });
      continue;
    }
    if (info.isDirectory()) await walk(input);
    else files.push(input);
  }
  return { files, missing, unreadable };
}

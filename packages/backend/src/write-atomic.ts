import { randomBytes } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';

export interface WriteAtomicOptions {
  /** fsync the data before the rename, so the file also survives a power loss (slower). */
  durable?: boolean;
}

const tempSibling = (path: string) => `${path}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`;

const failure = (path: string, err: unknown) =>
  new Error(`cannot write ${path}: ${(err as Error).message}`, { cause: err });

/** Writes a file through a temporary sibling and a rename, so readers never see half a file. */
export async function writeFileAtomic(
  path: string,
  data: Uint8Array | string,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const tmp = tempSibling(path);
  try {
    await mkdir(dirname(path), { recursive: true });
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // Best effort: the temporary may not exist (e.g. its folder could not be created).
    await rm(tmp, { force: true }).catch(() => {});
    throw failure(path, err);
  }
}

/** Synchronous {@link writeFileAtomic}. */
export function writeFileAtomicSync(
  path: string,
  data: Uint8Array | string,
  options: WriteAtomicOptions = {},
): void {
  const tmp = tempSibling(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    const fd = openSync(tmp, 'w');
    try {
      writeFileSync(fd, data);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {}
    throw failure(path, err);
  }
}

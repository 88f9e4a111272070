import { randomBytes } from 'node:crypto';
import {
  closeSync,
  fstatSync,
  fsyncSync,
  ftruncateSync,
  mkdirSync,
  openSync,
  renameSync,
  rmSync,
  writeSync,
} from 'node:fs';
import { mkdir, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { checkFreeSpace, writeError } from './write-error.js';

export interface WriteAtomicOptions {
  /** fsync the data before the rename and the folder after it, so the file also survives a power loss (slower). */
  durable?: boolean;
  /** suffix of the temporary sibling (default `.tmp`), for writers that clean up their own leftovers */
  tempSuffix?: string;
}

/** What can be written: text, bytes, or bytes in pieces (written one after another, never joined). */
export type WriteData = Uint8Array | string | readonly Uint8Array[];

const tempSibling = (path: string, suffix = '.tmp') =>
  `${path}.${process.pid}.${randomBytes(4).toString('hex')}${suffix}`;

const pieces = (data: WriteData): readonly Uint8Array[] =>
  typeof data === 'string' ? [Buffer.from(data, 'utf8')] : data instanceof Uint8Array ? [data] : data;

const byteLength = (chunks: readonly Uint8Array[]) => chunks.reduce((n, c) => n + c.byteLength, 0);

/** Makes a rename durable (best effort: not every platform can fsync a folder). */
function syncDir(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch {}
}

/**
 * Writes a file through a temporary sibling and a rename, so readers never see half a file. The
 * free space is checked first; a failure is a {@link WriteError} (one line: the file, the error in
 * words, the free space, what to do) and leaves no temporary behind.
 */
export async function writeFileAtomic(
  path: string,
  data: WriteData,
  options: WriteAtomicOptions = {},
): Promise<void> {
  const chunks = pieces(data);
  const bytes = byteLength(chunks);
  const tmp = tempSibling(path, options.tempSuffix);
  try {
    await mkdir(dirname(path), { recursive: true });
    checkFreeSpace(path, bytes);
    const handle = await open(tmp, 'w');
    try {
      // writeFile on a handle writes all of it from the current position (write may write less).
      for (const c of chunks) await handle.writeFile(c);
      if (options.durable) await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
    if (options.durable) syncDir(dirname(path));
  } catch (err) {
    // Best effort: the temporary may not exist (e.g. its folder could not be created).
    await rm(tmp, { force: true }).catch(() => {});
    throw writeError(path, err, bytes);
  }
}

/** Synchronous {@link writeFileAtomic}. */
export function writeFileAtomicSync(path: string, data: WriteData, options: WriteAtomicOptions = {}): void {
  const chunks = pieces(data);
  const bytes = byteLength(chunks);
  const tmp = tempSibling(path, options.tempSuffix);
  try {
    mkdirSync(dirname(path), { recursive: true });
    checkFreeSpace(path, bytes);
    const fd = openSync(tmp, 'w');
    try {
      for (const c of chunks) writeAll(fd, c);
      if (options.durable) fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
    if (options.durable) syncDir(dirname(path));
  } catch (err) {
    try {
      rmSync(tmp, { force: true });
    } catch {}
    throw writeError(path, err, bytes);
  }
}

/** writeSync until every byte is out (one call may write fewer). */
function writeAll(fd: number, bytes: Uint8Array): void {
  for (let off = 0; off < bytes.byteLength; ) off += writeSync(fd, bytes, off, bytes.byteLength - off);
}

/**
 * Appends `text` to a file (created if missing) whole or not at all: the free space is checked
 * first, and a write that fails midway is cut back off, so the file never ends in half a line.
 * A failure is a {@link WriteError}.
 */
export function appendFileWholeSync(path: string, text: string): void {
  const bytes = Buffer.from(text, 'utf8');
  let fd: number | undefined;
  let size = 0;
  try {
    checkFreeSpace(path, bytes.byteLength);
    fd = openSync(path, 'a');
    size = fstatSync(fd).size;
    writeAll(fd, bytes);
  } catch (err) {
    if (fd !== undefined) {
      try {
        ftruncateSync(fd, size);
      } catch {}
    }
    throw writeError(path, err, bytes.byteLength);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

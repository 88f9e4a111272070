import { existsSync, statfsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Free space of the file system holding a path, and where that file system is mounted. */
export interface FreeSpace {
  bytes: number;
  /** the mount point (the topmost folder on the same device) */
  mount: string;
}

/** The nearest folder of `path` (itself included) that exists. */
function existingAncestor(path: string): string {
  let p = resolve(path);
  while (!existsSync(p) && dirname(p) !== p) p = dirname(p);
  return p;
}

/**
 * Bytes an unprivileged writer may still use on the file system holding `path` (which need not
 * exist yet), or undefined where the file system does not say (statfs fails or reports no blocks,
 * as some network and FUSE file systems do).
 */
export function freeSpace(path: string): FreeSpace | undefined {
  try {
    const at = existingAncestor(path);
    const s = statfsSync(at);
    if (!(s.blocks > 0)) return undefined;
    // The mount point: climb while the parent is on the same device.
    let mount = statSync(at).isDirectory() ? at : dirname(at);
    const dev = statSync(mount).dev;
    while (dirname(mount) !== mount && statSync(dirname(mount)).dev === dev) mount = dirname(mount);
    return { bytes: s.bavail * s.bsize, mount };
  } catch {
    return undefined;
  }
}

/** `512 bytes`, `12 KB`, `3.4 MB`, `14 MB`, `1.2 GB` (decimal units, as `df -H` and file managers). */
export function formatBytes(n: number): string {
  if (n < 1e3) return `${n} bytes`;
  const [unit, scale] = n < 1e6 ? ['KB', 1e3] : n < 1e9 ? ['MB', 1e6] : ['GB', 1e9];
  const x = n / scale;
  return `${x < 10 ? x.toFixed(1).replace(/\.0$/, '') : Math.round(x)} ${unit}`;
}

/** What to do, by error code; the space remedy is built where the mount point is known. */
const REMEDIES: Record<string, string> = {
  EACCES: 'check the permissions of its folder, or write elsewhere',
  EPERM: 'check the permissions of its folder, or write elsewhere',
  EROFS: 'the file system is read-only: write elsewhere',
  EIO: 'the device reported an error: check the disk (dmesg), or write elsewhere',
  EFBIG: 'raise the file size limit of this process (ulimit -f), or write elsewhere',
  ENOTDIR: 'a part of the path is a file, not a folder: remove it, or write elsewhere',
  EISDIR: 'a folder has that name: remove it, or write elsewhere',
  ENOENT: 'its folder does not exist and could not be created: check the path',
};

/** Node's `ENOSPC: no space left on device, write` in words: `no space left on device`. */
function inWords(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/^[A-Z0-9_]+: /, '').replace(/, [a-z]+(?: '[^']*'(?: -> '[^']*')?)?$/, '');
}

/**
 * A file that could not be written, as one line: the file, the error in words, the free space
 * when it is a space problem, and what to do. `remedy` can be replaced by callers that know
 * better what the user should do (e.g. the trainer's `--resume`).
 */
export class WriteError extends Error {
  override name = 'WriteError';
  constructor(
    readonly path: string,
    /** errno code (`ENOSPC`, `EACCES`, …) when there is one */
    readonly code: string | undefined,
    /** what went wrong, with the free space where it is a space problem */
    readonly reason: string,
    readonly remedy: string,
    /** free space and mount point, for a space problem */
    readonly space?: FreeSpace,
    options?: ErrorOptions,
  ) {
    super(`cannot write ${path}: ${reason}; ${remedy}`, options);
  }

  /** Whether the file system ran out of space (or quota). */
  get isSpaceProblem(): boolean {
    return this.code === 'ENOSPC' || this.code === 'EDQUOT';
  }

  /** The same failure with another remedy. */
  withRemedy(remedy: string): WriteError {
    return new WriteError(this.path, this.code, this.reason, remedy, this.space, { cause: this.cause });
  }
}

const spaceRemedy = (space: FreeSpace | undefined) =>
  `free some space${space ? ` on ${space.mount}` : ''}, or write elsewhere`;

/** A space problem: `needs ~14 MB, 2 MB free on /mnt/x`. */
function spaceReason(space: FreeSpace | undefined, bytes: number | undefined): string {
  if (!space) return 'no space left on device';
  const needs = bytes !== undefined ? `needs ~${formatBytes(bytes)}, ` : '';
  return `no space left on device (${needs}${formatBytes(space.bytes)} free on ${space.mount})`;
}

/**
 * The {@link WriteError} for a failed write of `path` (`bytes` long, when known); already a
 * WriteError is returned as it is.
 */
export function writeError(path: string, err: unknown, bytes?: number): WriteError {
  if (err instanceof WriteError) return err;
  const code = (err as NodeJS.ErrnoException)?.code;
  if (code === 'ENOSPC' || code === 'EDQUOT') {
    const space = freeSpace(path);
    const reason =
      code === 'EDQUOT'
        ? `disk quota exceeded${bytes !== undefined ? ` (needs ~${formatBytes(bytes)})` : ''}`
        : spaceReason(space, bytes);
    return new WriteError(path, code, reason, spaceRemedy(space), space, { cause: err });
  }
  const remedy = (code && REMEDIES[code]) ?? 'check the file system, or write elsewhere';
  return new WriteError(path, code, inWords(err), remedy, undefined, { cause: err });
}

/**
 * Refuses a write of `bytes` to `path` that the file system has no room for, before anything is
 * written (where the file system reports its free space).
 */
export function checkFreeSpace(path: string, bytes: number): void {
  const space = freeSpace(path);
  if (space && space.bytes < bytes)
    throw new WriteError(path, 'ENOSPC', spaceReason(space, bytes), spaceRemedy(space), space);
}

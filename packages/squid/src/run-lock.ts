import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';

/** Who holds a run folder: written into its lock file. */
export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
}

/** The lock file of a run folder: one trainer writes a run at a time. */
export const lockPathOf = (runDir: string): string => join(runDir, 'train.lock');

/** Another live trainer holds the run folder. */
export class RunLockedError extends Error {
  override name = 'RunLockedError';
}

/** Whether `pid` is a live process on this machine (EPERM: alive, someone else's). */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readOwner(path: string): LockOwner | undefined {
  try {
    const o = JSON.parse(readFileSync(path, 'utf8')) as LockOwner;
    return Number.isInteger(o.pid) && typeof o.host === 'string' ? o : undefined;
  } catch {
    return undefined;
  }
}

/** Options of {@link RunLock.acquire}. */
export interface AcquireOptions {
  /**
   * A host the user has checked is gone (the machine is down, its trainer killed): a lock held
   * from that host is taken over (`squid-train --break-lock HOST`). Naming the host, not a bare
   * yes, so that a lock from another, live host is still refused.
   */
  breakLock?: string;
}

/**
 * The run folder's writer lock (`train.lock`: pid, host, start time), created exclusively so two
 * trainers cannot both write one run. A lock left by a crashed trainer on this host (its pid is
 * gone) or a cut lock file is stale and taken over; a live one is refused, and so is one from
 * another host (its pid cannot be checked from here) unless the user names that host with
 * `breakLock`. Readers (evaluate, score) need no lock.
 */
export class RunLock {
  private released = false;

  /** `tookOver`: the owner of another host's lock broken by `breakLock`, for the run's log. */
  private constructor(
    readonly path: string,
    readonly tookOver?: LockOwner,
  ) {}

  /** Takes the lock of `runDir` (creating the folder), or throws {@link RunLockedError}. */
  static acquire(runDir: string, options: AcquireOptions = {}): RunLock {
    mkdirSync(runDir, { recursive: true });
    const path = lockPathOf(runDir);
    const me: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString() };
    let broken: LockOwner | undefined;
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(path, 'wx');
        try {
          writeSync(fd, `${JSON.stringify(me)}\n`);
        } finally {
          closeSync(fd);
        }
        return new RunLock(path, broken);
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
      const owner = readOwner(path);
      if (owner && owner.host !== me.host && owner.host !== options.breakLock)
        throw new RunLockedError(
          `${runDir} is being trained by pid ${owner.pid} on ${owner.host} since ${owner.startedAt} (${path}); ` +
            `wait for it, or if ${owner.host} is gone (the machine down, that trainer killed) take the run over ` +
            `with --break-lock ${owner.host} (squid-train, squid-train worker)`,
        );
      if (owner && owner.host !== me.host) broken = owner;
      else if (owner && alive(owner.pid))
        throw new RunLockedError(
          `${runDir} is being trained by pid ${owner.pid} since ${owner.startedAt} (${path}); ` +
            'one trainer per run folder: wait for it to finish or stop it, or use another --out',
        );
      // Stale: its trainer died (or the file was cut while being written), or the user said its
      // host is gone. Take it over.
      rmSync(path, { force: true });
    }
    throw new RunLockedError(`${runDir}: could not take the lock ${path} (another trainer raced for it)`);
  }

  /** Gives the lock back (idempotent). */
  release(): void {
    if (this.released) return;
    this.released = true;
    rmSync(this.path, { force: true });
  }
}

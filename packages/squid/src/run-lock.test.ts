import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { lockPathOf, RunLock, RunLockedError } from './run-lock.js';

const root = mkdtempSync(join(tmpdir(), 'squid-lock-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

/** The pid of a process that has exited: what a crashed trainer leaves in its lock. */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(r.stdout);
}

describe('RunLock', () => {
  it('is exclusive while held, records pid and host, and is free after release', () => {
    const dir = join(root, 'a');
    const lock = RunLock.acquire(dir);
    const owner = JSON.parse(readFileSync(lockPathOf(dir), 'utf8'));
    expect(owner).toMatchObject({ pid: process.pid, host: hostname() });
    expect(() => RunLock.acquire(dir)).toThrow(RunLockedError);
    lock.release();
    lock.release(); // idempotent
    expect(existsSync(lockPathOf(dir))).toBe(false);
    RunLock.acquire(dir).release();
  });

  it('takes over the lock of a crashed trainer on this host, and a cut lock file', () => {
    const dir = join(root, 'b');
    RunLock.acquire(dir).release();
    const pid = deadPid();
    writeFileSync(lockPathOf(dir), JSON.stringify({ pid, host: hostname(), startedAt: 'earlier' }));
    const lock = RunLock.acquire(dir);
    expect(JSON.parse(readFileSync(lockPathOf(dir), 'utf8')).pid).toBe(process.pid);
    lock.release();
    writeFileSync(lockPathOf(dir), '{"pid": 12');
    RunLock.acquire(dir).release();
  });

  it("refuses another host's lock (its pid cannot be checked from here), saying what to do", () => {
    const dir = join(root, 'c');
    RunLock.acquire(dir).release();
    writeFileSync(lockPathOf(dir), JSON.stringify({ pid: 1, host: 'other-node', startedAt: 'then' }));
    const refused = /pid 1 on other-node since then .*if other-node is gone .* with --break-lock other-node/;
    expect(() => RunLock.acquire(dir)).toThrow(refused);
    // Naming another host breaks nothing.
    expect(() => RunLock.acquire(dir, { breakLock: 'node-9' })).toThrow(refused);
    expect(JSON.parse(readFileSync(lockPathOf(dir), 'utf8')).host).toBe('other-node');
    // Naming its host takes it over, and says whose lock it was.
    const lock = RunLock.acquire(dir, { breakLock: 'other-node' });
    expect(lock.tookOver).toEqual({ pid: 1, host: 'other-node', startedAt: 'then' });
    expect(JSON.parse(readFileSync(lockPathOf(dir), 'utf8'))).toMatchObject({
      pid: process.pid,
      host: hostname(),
    });
    // It is ours now: exclusive as any other.
    expect(() => RunLock.acquire(dir, { breakLock: 'other-node' })).toThrow(RunLockedError);
    lock.release();
  });

  it("--break-lock never takes a live trainer's lock on this host", () => {
    const dir = join(root, 'd');
    const held = RunLock.acquire(dir);
    expect(() => RunLock.acquire(dir, { breakLock: hostname() })).toThrow(/one trainer per run folder/);
    expect(held.tookOver).toBeUndefined();
    held.release();
  });
});

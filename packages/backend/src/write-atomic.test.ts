import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './write-atomic.js';
import { checkFreeSpace, formatBytes, freeSpace } from './write-error.js';

const dir = mkdtempSync(join(tmpdir(), 'squid-atomic-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('writeFileAtomic', () => {
  it('writes (and replaces) a file, creating its folder, leaving no temporary behind', async () => {
    const path = join(dir, 'a', 'b.txt');
    await writeFileAtomic(path, 'first');
    await writeFileAtomic(path, new Uint8Array([104, 105]), { durable: true });
    writeFileAtomicSync(join(dir, 'a', 'c.txt'), 'sync', { durable: true });
    expect(readFileSync(path, 'utf8')).toBe('hi');
    expect(readFileSync(join(dir, 'a', 'c.txt'), 'utf8')).toBe('sync');
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['b.txt', 'c.txt']);
  });

  it('names the file when it cannot be written and cleans up', async () => {
    const blocked = join(dir, 'a', 'b.txt', 'child.txt'); // parent is a file
    await expect(writeFileAtomic(blocked, 'x')).rejects.toThrow(`cannot write ${blocked}`);
    expect(() => writeFileAtomicSync(blocked, 'x')).toThrow(`cannot write ${blocked}`);
    expect(readdirSync(join(dir, 'a')).sort()).toEqual(['b.txt', 'c.txt']);
  });
});

describe('a failed write', () => {
  it('says, in one line, the file, the size, the free space and the mount point, before writing anything', () => {
    const path = join(dir, 'huge', 'weights.bin');
    const space = freeSpace(path)!;
    expect(space.bytes).toBeGreaterThan(0);
    expect(() => checkFreeSpace(path, space.bytes + 5e12)).toThrow(
      new RegExp(
        `^cannot write ${path}: no space left on device \\(needs ~\\d+ GB, [\\d.]+ [A-Za-z]+ free on ${space.mount}\\); free some space on ${space.mount}, or write elsewhere$`,
      ),
    );
    expect(existsSync(join(dir, 'huge'))).toBe(false);
  });

  it('that fails midway (a file size limit) removes its temporary, and an append is cut back to the old end', () => {
    // A child process with `ulimit -f 8` (8 KiB) whose SIGXFSZ is ignored: writes past the limit
    // fail with EFBIG after part of the data went out.
    const at = join(dir, 'limited');
    mkdirSync(at);
    writeFileSync(join(at, 'log.txt'), 'x'.repeat(3000));
    const child = join(dir, 'limited-child.mts');
    writeFileSync(
      child,
      `import { appendFileWholeSync, writeFileAtomicSync } from ${JSON.stringify(new URL('./write-atomic.ts', import.meta.url).pathname)};
for (const write of [() => writeFileAtomicSync('${at}/big.bin', new Uint8Array(100_000)), () => appendFileWholeSync('${at}/log.txt', 'y'.repeat(6000))])
  try { write(); } catch (err) { console.log(err.message); }`,
    );
    const out = execFileSync(
      'sh',
      ['-c', `trap "" XFSZ; ulimit -f 8; exec "${process.execPath}" --import tsx "${child}"`],
      {
        encoding: 'utf8',
      },
    );
    const remedy =
      'file too large; raise the file size limit of this process (ulimit -f), or write elsewhere';
    expect(out.split('\n').filter(Boolean)).toEqual([
      `cannot write ${at}/big.bin: ${remedy}`,
      `cannot write ${at}/log.txt: ${remedy}`,
    ]);
    expect(readdirSync(at)).toEqual(['log.txt']);
    expect(readFileSync(join(at, 'log.txt'), 'utf8')).toBe('x'.repeat(3000));
  });
});

describe('formatBytes', () => {
  it('writes sizes as df -H does, to two figures', () => {
    expect([0, 798, 8192, 10_466, 1_048_576, 4_500_000, 14_129_352, 2.5e9].map(formatBytes)).toEqual([
      '0 bytes',
      '798 bytes',
      '8.2 KB',
      '10 KB',
      '1 MB',
      '4.5 MB',
      '14 MB',
      '2.5 GB',
    ]);
  });
});

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { writeFileAtomic, writeFileAtomicSync } from './write-atomic.js';

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

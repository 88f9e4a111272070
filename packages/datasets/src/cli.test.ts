import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { decode as decodePng } from 'fast-png';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkDataset } from './check-dataset.js';
import { listFiles } from './list-files.js';
import { encodeGreyPng } from './png-codec.js';
import { writeDigitAnatomy } from './write-digit-anatomy.js';

const run = promisify(execFile);
const pkg = fileURLToPath(new URL('..', import.meta.url));
// The built CLI (dist, from the test run's global setup): it starts ~2.5 s sooner than
// src/cli.ts under tsx, and it is what a user runs. With SQUID_TEST_SKIP_BUILD=1, `pnpm build` first.
const squidData = fileURLToPath(new URL('../dist/cli.js', import.meta.url));
const cli = (...args: string[]) =>
  run(process.execPath, [squidData, ...args], { cwd: pkg }).then(
    (r) => ({ code: 0, ...r }),
    (e: { code: number; stdout: string; stderr: string }) => ({
      code: e.code,
      stdout: e.stdout,
      stderr: e.stderr,
    }),
  );

let tmp: string;
beforeAll(async () => {
  tmp = await mkdtemp(join(tmpdir(), 'squid-data-cli-'));
});
afterAll(async () => {
  await rm(tmp, { recursive: true, force: true });
});

async function tree(dir: string): Promise<Record<string, Buffer>> {
  const out: Record<string, Buffer> = {};
  for (const e of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (e.isFile()) {
      const p = join(e.parentPath, e.name);
      out[p.slice(dir.length + 1)] = await readFile(p);
    }
  }
  return out;
}

// Each CLI spawn costs seconds (TensorFlow.js start-up): the file work is checked in-process and
// the command line once per subcommand.
describe('squid-data', () => {
  it('digitanatomy writes byte-identical files for a seed, 8-bit grey PNGs of 3·cell px, a manifest', async () => {
    const opts = { seed: 5, normal: 2, abnormal: 4, cell: 16 };
    const [a, b, c] = [join(tmp, 'a'), join(tmp, 'b'), join(tmp, 'c')];
    await writeDigitAnatomy(a, opts);
    const r = await cli(
      'digitanatomy',
      '--out',
      b,
      '--seed',
      '5',
      '--normal',
      '2',
      '--abnormal',
      '4',
      '--cell',
      '16',
    );
    expect(r.code).toBe(0);
    const [ta, tb] = [await tree(a), await tree(b)];
    expect(Object.keys(ta).sort()).toEqual(Object.keys(tb).sort());
    for (const k of Object.keys(ta)) expect(ta[k].equals(tb[k])).toBe(true);
    expect(
      Object.keys(ta)
        .filter((k) => k.startsWith('abnormal/'))
        .sort(),
    ).toEqual([
      'abnormal/flip/00000.png',
      'abnormal/missing/00000.png',
      'abnormal/swap/00000.png',
      'abnormal/zero/00000.png',
    ]);
    const png = decodePng(ta['normal/00000.png']);
    expect([png.width, png.height, png.depth, png.channels]).toEqual([48, 48, 8, 1]);
    const manifest = JSON.parse(ta['manifest.json'].toString()).images;
    expect(manifest.length).toBe(6);
    expect(manifest[2]).toMatchObject({ path: 'abnormal/missing/00000.png', label: 1, type: 'missing' });
    expect(manifest[2].cells.length).toBe(1);
    const mask = decodePng(ta[manifest[2].mask]);
    expect(Array.from(mask.data).filter((v) => v === 255).length).toBe(16 * 16);
    await writeDigitAnatomy(c, { ...opts, seed: 6 });
    expect((await readFile(join(c, 'normal/00000.png'))).equals(ta['normal/00000.png'])).toBe(false);
  });

  it('check: counts and sizes of a clean set; exit 1 listing every bad file as JSON', async () => {
    const d = join(tmp, 'set');
    await mkdir(join(d, 'normal'), { recursive: true });
    await mkdir(join(d, 'abnormal'), { recursive: true });
    await writeFile(
      join(d, 'normal/a.png'),
      encodeGreyPng({ width: 30, height: 20, data: new Float32Array(600) }),
    );
    await writeFile(
      join(d, 'abnormal/b.png'),
      encodeGreyPng({ width: 10, height: 40, data: new Float32Array(400) }),
    );
    const ok = await checkDataset(d);
    expect(ok.counts).toEqual({ all: { normal: 1, abnormal: 1 } });
    expect(ok.size).toEqual({ minWidth: 10, maxWidth: 30, minHeight: 20, maxHeight: 40 });
    expect(ok.bad).toEqual([]);
    await writeFile(join(d, 'abnormal/zero.png'), '');
    const bad = await cli('check', d, '--layout', 'folder', '--json');
    expect(bad.code).toBe(1);
    const report = JSON.parse(bad.stdout);
    expect(report.bad).toEqual([{ path: join(d, 'abnormal/zero.png'), reason: 'empty file (0 bytes)' }]);
    expect(report.counts).toEqual({ all: { normal: 1, abnormal: 2 } });
    await expect(checkDataset(join(tmp, 'missing-dir'))).rejects.toThrow(/no known dataset layout/);
    // A bad option value is a usage error (2), not "found bad files" (1); --help is 0.
    const usage = await cli('check', d, '--max-pixels', '0');
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--max-pixels must be an integer ≥ 1, got '0'/);
    expect((await cli('check', '--help')).code).toBe(0);
  });

  it('check reports dangling symlinks and symlink loops as bad files; directory loops are walked once', async () => {
    const d = join(tmp, 'links');
    await mkdir(join(d, 'normal'), { recursive: true });
    await mkdir(join(d, 'abnormal'), { recursive: true });
    await writeFile(
      join(d, 'normal/a.png'),
      encodeGreyPng({ width: 8, height: 8, data: new Float32Array(64) }),
    );
    await writeFile(
      join(d, 'abnormal/b.png'),
      encodeGreyPng({ width: 8, height: 8, data: new Float32Array(64) }),
    );
    await symlink(join(d, 'normal/gone.png'), join(d, 'normal/dangling.png'));
    await symlink(join(d, 'normal/self.png'), join(d, 'normal/self.png'));
    await symlink(d, join(d, 'normal/loop')); // a directory that contains itself
    expect(await listFiles(join(d, 'normal'))).toEqual(
      ['a.png', 'dangling.png', 'loop/abnormal/b.png', 'self.png'].map((f) => join(d, 'normal', f)),
    );
    const report = await checkDataset(d, { layout: 'folder' });
    expect(report.bad.map((b) => [b.path, b.reason])).toEqual([
      [join(d, 'normal/dangling.png'), 'cannot read file (ENOENT)'],
      [join(d, 'normal/self.png'), 'cannot read file (ELOOP)'],
    ]);
  });
});

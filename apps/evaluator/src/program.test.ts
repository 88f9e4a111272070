import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tf } from '@squid-ad/backend';
import { BadImageError } from '@squid-ad/datasets';
import { afterAll, describe, expect, it } from 'vitest';
import type { EvalSplit } from './deps.js';
import { decodePng } from './png-image.js';
import { runCli } from './program.js';
import { fakeDeps, fakeRun, loadPngImage, writeGreyPng } from './testing/fakes.js';

const S = 16;
const dir = mkdtempSync(join(tmpdir(), 'squid-eval-cli-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// brightness b everywhere → the fake run scores b (mean intensity)
const flat = (name: string, b: number) => {
  const p = join(dir, name);
  writeGreyPng(p, S, () => b);
  return p;
};

describe('squid-eval score', () => {
  const imgs = join(dir, 'imgs');
  flat('imgs/a.png', 0.2);
  flat('imgs/sub/b.png', 0.6);
  writeFileSync(join(imgs, 'corrupt.png'), Buffer.from('this is not a png'));
  writeFileSync(join(imgs, 'notes.txt'), 'ignored: not an image extension');

  it('scores the good files, names the corrupt one on stderr and exits 2', async () => {
    const run = fakeRun(S, 0.5);
    const deps = fakeDeps(run);
    const before = tf.memory().numTensors;
    const code = await runCli(['score', '--run', 'RUN', imgs], deps);
    expect(code).toBe(2);
    expect(tf.memory().numTensors).toBe(before);
    expect(deps.err).toHaveLength(1);
    expect(deps.err[0]).toContain(join(imgs, 'corrupt.png'));
    const lines = deps.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.path)).toEqual([join(imgs, 'a.png'), join(imgs, 'sub/b.png')]);
    expect(lines[0].score).toBeCloseTo(51 / 255, 6); // round(0.2·255) = 51
    expect(lines[1].score).toBeCloseTo(153 / 255, 6);
    expect(lines.map((l) => [l.anomalous, l.threshold])).toEqual([
      [false, 0.5],
      [true, 0.5],
    ]);
    expect(run.disposed).toBe(true);
  });

  it('score names a symlink loop as such, not as a missing file (exit 2)', async () => {
    const loop = join(dir, 'loop.png');
    symlinkSync(loop, loop);
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'RUN', loop, join(imgs, 'a.png')], deps)).toBe(2);
    expect(deps.err).toEqual([`squid-eval score: ${loop}: symlink loop (too many levels of symbolic links)`]);
    expect(deps.out).toHaveLength(1);
  });

  it('score on a folder without images fails (exit 1) and says where it looked', async () => {
    const empty = join(dir, 'empty-folder');
    writeGreyPng(join(empty, 'sub/x.png'), 2, () => 0);
    rmSync(join(empty, 'sub/x.png'));
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'RUN', empty], deps)).toBe(1);
    expect(deps.err).toEqual([`squid-eval score: no image files found in ${empty}`]);
    expect(deps.out).toEqual([]);
  });

  it('a non-finite score is an error naming the image, never a verdict', async () => {
    const run = fakeRun(S, 0.5);
    const score = run.score.bind(run);
    // A model that gives NaN for the bright image (a broken checkpoint would, for every image).
    run.score = async (images, options) => {
      const out = await score(images, options);
      return { ...out, scores: out.scores.map((v) => (v > 0.5 ? Number.NaN : v)) };
    };
    const deps = fakeDeps(run);
    expect(await runCli(['score', '--run', 'RUN', join(imgs, 'a.png'), join(imgs, 'sub/b.png')], deps)).toBe(
      1,
    );
    expect(deps.err.at(-1)).toMatch(/sub\/b\.png: the model gave a non-finite score \(NaN, /);
    expect(deps.out.map((l) => JSON.parse(l).path)).not.toContain(join(imgs, 'sub/b.png'));
  });

  it('prints the reconstruction errors beside the score (--recon-cell sets the worst cell)', async () => {
    // right half 1, reconstructed as 0.5 by the fake run: error 0.5 on half the pixels
    const f = join(dir, 'errors/half.png');
    writeGreyPng(f, S, (x) => (x < 8 ? 0 : 1));
    const lineWith = async (args: string[]) => {
      const deps = fakeDeps(fakeRun(S));
      await runCli(['score', '--run', 'R', ...args, f], deps);
      return JSON.parse(deps.out[0]);
    };
    // fake run default: 8-px cells, 2×2 grid, the right-hand cells are all error
    expect(await lineWith([])).toMatchObject({ reconL1: 0.25, reconL1WorstCell: 0.5 });
    // one 16-px cell: the worst cell is the whole image
    expect(await lineWith(['--recon-cell', '16'])).toMatchObject({ reconL1: 0.25, reconL1WorstCell: 0.25 });
    const bad = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'R', '--recon-cell', '0', f], bad)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/--recon-cell must be a positive integer/);
  });

  it('exits 0 when every file is good, and reports a missing path as bad', async () => {
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'R', join(imgs, 'a.png')], deps)).toBe(0);
    expect(JSON.parse(deps.out[0])).toMatchObject({ anomalous: null, threshold: null });
    const deps2 = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'R', join(imgs, 'a.png'), join(dir, 'nope.png')], deps2)).toBe(2);
    expect(deps2.err[0]).toMatch(/nope\.png: no such file/);
    expect(deps2.out).toHaveLength(1);
  });

  it('gives identical scores alone, in one batch, and in batches of one', async () => {
    const files = [flat('same/1.png', 0.1), flat('same/2.png', 0.7), flat('same/3.png', 0.35)];
    const scoresWith = async (args: string[]) => {
      const deps = fakeDeps(fakeRun(S));
      await runCli(['score', '--run', 'R', ...args], deps);
      return deps.out.map((l) => JSON.parse(l).score);
    };
    const alone = [];
    for (const f of files) alone.push(...(await scoresWith([f])));
    const run = fakeRun(S);
    const deps = fakeDeps(run);
    await runCli(['score', '--run', 'R', '--batch-size', '2', ...files], deps);
    expect(run.calls).toEqual([2, 1]);
    expect(deps.out.map((l) => JSON.parse(l).score)).toEqual(alone);
    expect(await scoresWith(['--batch-size', '1', ...files])).toEqual(alone);
  });

  it('--heatmap writes the reconstruction and difference per image', async () => {
    const out = join(dir, 'heat');
    const f = join(dir, 'heat-in/x.png');
    writeGreyPng(f, S, (x) => (x < 8 ? 0 : 1)); // right half bright
    await runCli(['score', '--run', 'R', '--heatmap', out, f], fakeDeps(fakeRun(S)));
    expect(readdirSync(out).sort()).toEqual(['x-diff.png', 'x-recon.png']);
    const recon = decodePng(readFileSync(join(out, 'x-recon.png')));
    expect(recon.data[0]).toBe(0);
    expect(recon.data[15 * 3]).toBe(128); // fake recon caps at 0.5
    const diff = decodePng(readFileSync(join(out, 'x-diff.png')));
    expect(Array.from(diff.data.subarray(0, 3))).toEqual([0, 0, 4]); // no difference → darkest
    expect(Array.from(diff.data.subarray(15 * 3, 15 * 3 + 3))).toEqual([252, 255, 164]); // largest → brightest
  });

  it('rejects bad arguments with a usage error (exit 1)', async () => {
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['score', join(imgs, 'a.png')], deps)).toBe(1);
    expect(deps.err.join('\n')).toMatch(/required option '--run <dir>'/);
    const deps2 = fakeDeps(fakeRun(S));
    expect(await runCli(['score', '--run', 'R', '--batch-size', '0', 'x.png'], deps2)).toBe(1);
    expect(deps2.err.join('\n')).toMatch(/--batch-size must be a positive integer/);
    const deps3 = fakeDeps(fakeRun(S));
    expect(await runCli(['evaluate', '--run', 'R', '--checkpoint', 'newest'], deps3)).toBe(1);
    expect(deps3.err.join('\n')).toMatch(/--checkpoint.*must be best, last or epoch-N/);
    // a kept checkpoint (squid-train --keep-every) reaches loadRun by name
    const deps5 = fakeDeps(fakeRun(S));
    const asked: unknown[] = [];
    const load = deps5.loadRun;
    deps5.loadRun = async (dir, options) => {
      asked.push(options?.checkpoint);
      return load(dir, options);
    };
    expect(
      await runCli(['score', '--run', 'R', '--checkpoint', 'epoch-0010', join(imgs, 'a.png')], deps5),
    ).toBe(0);
    expect(asked).toEqual(['epoch-0010']);
    const deps4 = fakeDeps(fakeRun(S));
    expect(await runCli(['frobnicate'], deps4)).toBe(1);
    expect(deps4.err.join('\n')).toMatch(/unknown command 'frobnicate'/);
  });
});

describe('squid-eval evaluate and compare', () => {
  // test split: 6 normals (dark) and 6 anomalies of two types (brighter); val split for thresholds
  const split = (name: string, n: number): EvalSplit => {
    const items: EvalSplit['items'][number][] = [];
    for (let i = 0; i < n; i++) {
      const p = flat(`${name}/normal/${i}.png`, 0.1 + 0.05 * i);
      items.push({ path: p, label: 0 });
    }
    for (let i = 0; i < n; i++) {
      const type = i % 2 ? 'swap' : 'missing';
      const p = flat(`${name}/${type}/${i}.png`, 0.32 + 0.05 * i);
      items.push({ path: p, label: 1, type });
    }
    return { items, load: (i) => loadPngImage(items[i].path, { size: S }) };
  };
  const test = split('data/test', 6);
  const val = split('data/val', 4);

  it('evaluate --skip-bad leaves unreadable images out, lists them, and exits 2; without it, stops naming one', async () => {
    const bad = join(dir, 'data/bad/normal/broken.png');
    writeGreyPng(bad, 2, () => 0);
    const withBad: EvalSplit = {
      items: [...test.items, { path: bad, label: 0 }],
      load: (i) =>
        i < test.items.length
          ? test.load(i)
          : Promise.reject(new BadImageError(bad, 'corrupt PNG (CRC mismatch for chunk IDAT)')),
    };
    const run = join(dir, 'run-skip');
    const args = ['evaluate', '--run', run, '--threshold-from', 'oracle', '--resamples', '20'];
    const stop = fakeDeps(fakeRun(S), { test: withBad });
    expect(await runCli(args, stop)).toBe(1);
    expect(stop.err.at(-1)).toBe(`squid-eval: ${bad}: corrupt PNG (CRC mismatch for chunk IDAT)`);
    const skip = fakeDeps(fakeRun(S), { test: withBad });
    expect(await runCli([...args, '--skip-bad'], skip)).toBe(2);
    expect(skip.err).toContain(
      `squid-eval evaluate: skipped ${bad}: corrupt PNG (CRC mismatch for chunk IDAT)`,
    );
    const report = JSON.parse(readFileSync(join(run, 'eval/report.json'), 'utf8'));
    expect(report.skipped).toEqual([{ path: bad, reason: 'corrupt PNG (CRC mismatch for chunk IDAT)' }]);
    expect(report.counts.total).toBe(test.items.length);
    expect(readFileSync(join(run, 'eval/report.html'), 'utf8')).toContain('1 unreadable image was left out');
  });

  it('reports the AUC of the reconstruction errors beside the discriminator score', async () => {
    // Images with a bright blob (the fake run reconstructs it as 0.5) in one 8-px cell: normals
    // flat 0.4 (errors 0); 'missing' anomalies 0.1 plus a blob of 1 over cell (1, 1) (mean 0.33:
    // the discriminator score, the mean, ranks them below every normal); 'swap' anomalies
    // flat 0.45 with no blob. So: discriminator AUC 1/2 (swap 1, missing 0), recon-l1 and
    // recon-l1-worst-cell 3/4 (missing 1, swap tied with the normals at 0: 1/2).
    const items: EvalSplit['items'][number][] = [];
    for (let i = 0; i < 4; i++) {
      items.push({ path: flat(`blob/normal/${i}.png`, 0.4), label: 0 });
      const p = join(dir, `blob/missing/${i}.png`);
      writeGreyPng(p, S, (x, y) => (x >= 8 && y >= 8 ? 1 : 0.1));
      items.push({ path: p, label: 1, type: 'missing' });
      items.push({ path: flat(`blob/swap/${i}.png`, 0.45), label: 1, type: 'swap' });
    }
    const blobs: EvalSplit = { items, load: (i) => loadPngImage(items[i].path, { size: S }) };
    const run = join(dir, 'run-errors');
    const deps = fakeDeps(fakeRun(S), { test: blobs });
    const args = ['evaluate', '--run', run, '--threshold-from', 'oracle', '--resamples', '50'];
    expect(await runCli(args, deps)).toBe(0);
    const report = JSON.parse(readFileSync(join(run, 'eval/report.json'), 'utf8'));
    expect(report.format).toBe('squid-eval-report/1');
    expect(report.source.reconCell).toBe(8);
    const byScore = Object.fromEntries(
      Object.entries(report.scores).map(([name, s]) => {
        const { auc, perType } = s as { auc: number; perType: Array<{ type: string; auc: number }> };
        return [name, [auc, ...perType.map((t) => `${t.type} ${t.auc}`)]];
      }),
    );
    expect(byScore).toEqual({
      discriminator: [0.5, 'missing 0', 'swap 1'],
      'recon-l1': [0.75, 'missing 1', 'swap 0.5'],
      'recon-l1-worst-cell': [0.75, 'missing 1', 'swap 0.5'],
    });
    expect(report.metrics.auc).toBe(0.5);
    expect(deps.out).toContain('AUC by score: discriminator 50.0 · recon-l1 75.0 · recon-l1-worst-cell 75.0');
    // scores.csv: the errors of a 'missing' image: 64 pixels of error 0.5 → mean 1/8, worst cell 1/2
    const csv = readFileSync(join(run, 'eval/scores.csv'), 'utf8').trim().split('\n');
    expect(csv[0]).toBe('path,label,type,score,prediction,recon-l1,recon-l1-worst-cell');
    expect(csv[2].split(',').slice(5)).toEqual(['0.125', '0.5']);
    // a larger cell is recorded in the report
    const d2 = fakeDeps(fakeRun(S), { test: blobs });
    await runCli([...args, '--recon-cell', '16', '--out', join(run, 'eval16')], d2);
    const r16 = JSON.parse(readFileSync(join(run, 'eval16/report.json'), 'utf8'));
    expect(r16.source.reconCell).toBe(16);
    expect(readFileSync(join(run, 'eval16/scores.csv'), 'utf8').split('\n')[2].split(',').slice(5)).toEqual([
      '0.125',
      '0.125',
    ]);
  });

  it('writes the full report with a threshold picked on val', async () => {
    const run = join(dir, 'run1');
    const deps = fakeDeps(fakeRun(S), { test, val });
    const code = await runCli(['evaluate', '--run', run, '--resamples', '100'], deps);
    expect(deps.err).toEqual([]);
    expect(code).toBe(0);
    const out = join(run, 'eval');
    expect(readdirSync(out).sort()).toEqual([
      'grid.png',
      'pr.svg',
      'report.html',
      'report.json',
      'roc.svg',
      'scores.csv',
    ]);
    const report = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(report.counts).toEqual({ total: 12, normal: 6, anomalous: 6 });
    // normals 0.10…0.35, anomalies 0.32…0.57 (8-bit: 82/255 < 89/255): one inverted pair of 36
    expect(report.metrics.auc).toBeCloseTo(35 / 36, 12);
    expect(report.threshold.source).toBe('val');
    expect(report.threshold.method).toBe('max-accuracy');
    expect(report.perType.map((t: { type: string }) => t.type)).toEqual(['missing', 'swap']);
    expect(report.source).toMatchObject({ run, split: 'test' });
    expect(deps.out.at(-1)).toBe(`report: ${join(out, 'report.html')}`);
    const csv = readFileSync(join(out, 'scores.csv'), 'utf8').trim().split('\n');
    expect(csv).toHaveLength(13);
  });

  it("uses the run's own validation threshold when it has one, or the oracle on request", async () => {
    const deps = fakeDeps(fakeRun(S, 0.3), { test });
    await runCli(['evaluate', '--run', join(dir, 'run2'), '--resamples', '50'], deps);
    const r2 = JSON.parse(readFileSync(join(dir, 'run2/eval/report.json'), 'utf8'));
    expect(r2.threshold).toMatchObject({ value: 0.3, source: 'val', method: 'run' });
    const deps3 = fakeDeps(fakeRun(S), { test });
    const out = join(dir, 'run3-oracle');
    await runCli(
      [
        'evaluate',
        '--run',
        join(dir, 'run3'),
        '--threshold-from',
        'oracle',
        '--out',
        out,
        '--resamples',
        '50',
      ],
      deps3,
    );
    const r3 = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
    expect(r3.threshold.source).toBe('oracle');
    expect(r3.metrics.accuracy).toBeGreaterThanOrEqual(r2.metrics.accuracy);
    // a fixed threshold: 0.3 → normals ≥ 0.3 (0.30, 0.35) are false positives, all anomalies flagged
    const d5 = fakeDeps(fakeRun(S), { test });
    await runCli(['evaluate', '--run', join(dir, 'run6'), '--threshold', '0.3', '--resamples', '20'], d5);
    const r5 = JSON.parse(readFileSync(join(dir, 'run6/eval/report.json'), 'utf8'));
    expect(r5.threshold).toMatchObject({ value: 0.3, source: 'fixed' });
    expect(r5.confusion).toEqual({ tp: 6, fp: 2, tn: 4, fn: 0 });
    // val needed but neither a run threshold nor a val split → clear error
    const deps4 = fakeDeps(fakeRun(S), { test });
    expect(await runCli(['evaluate', '--run', join(dir, 'run4')], deps4)).toBe(1);
    expect(deps4.err[0]).toMatch(/no validation threshold.*--threshold-from oracle/);
  });

  it('scores an image the same in evaluate as in score', async () => {
    const deps = fakeDeps(fakeRun(S), { test, val });
    await runCli(['evaluate', '--run', join(dir, 'run5'), '--resamples', '20', '--batch-size', '5'], deps);
    const csv = readFileSync(join(dir, 'run5/eval/scores.csv'), 'utf8').trim().split('\n').slice(1);
    const fromEval = new Map(csv.map((row) => [row.split(',')[0], Number(row.split(',')[3])]));
    const d = fakeDeps(fakeRun(S));
    await runCli(['score', '--run', 'R', test.items[3].path], d);
    expect(JSON.parse(d.out[0]).score).toBe(fromEval.get(test.items[3].path));
  });

  it('compare prints mean ± std over runs and --json', async () => {
    const deps = fakeDeps(fakeRun(S));
    const runs = [join(dir, 'run1'), join(dir, 'run5')];
    expect(await runCli(['compare', ...runs, '--json'], deps)).toBe(0);
    const c = JSON.parse(deps.out[0]);
    expect(c.runs).toHaveLength(2);
    // same data and scorer → identical AUCs, std 0
    expect(c.summary.auc.std).toBe(0);
    expect(c.summary.auc.mean).toBe(c.runs[0].metrics.auc);
    const table = fakeDeps(fakeRun(S));
    await runCli(['compare', ...runs], table);
    expect(table.out[0]).toMatch(/^metric\s+mean ± std/);
    expect(table.out[0]).toMatch(/auc\s+\d+\.\d ± 0\.0/);
    // every score of the reports' `scores` section, as mean ± std
    expect(Object.keys(c.scoreAucs)).toEqual(['discriminator', 'recon-l1', 'recon-l1-worst-cell']);
    expect(c.scoreAucs.discriminator.mean).toBe(c.summary.auc.mean);
    expect(c.scoreAucs['recon-l1'].mean).toBe(c.runs[0].scoreAucs['recon-l1']);
    expect(table.out[0]).toMatch(/auc recon-l1-worst-cell\s+\d+\.\d ± 0\.0/);
  });

  it('compare reads reports written before the `scores` section', async () => {
    const old = join(dir, 'run-old');
    const report = JSON.parse(readFileSync(join(dir, 'run1/eval/report.json'), 'utf8'));
    delete report.scores;
    writeGreyPng(join(old, 'eval/x.png'), 2, () => 0);
    writeFileSync(join(old, 'eval/report.json'), JSON.stringify(report));
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['compare', join(dir, 'run1'), old, '--json'], deps)).toBe(0);
    expect(JSON.parse(deps.out[0]).summary.auc.std).toBe(0);
    // a score only some runs have is not summarised
    expect(JSON.parse(deps.out[0]).scoreAucs).toEqual({});
  });

  it('compare names a missing or broken report', async () => {
    const deps = fakeDeps(fakeRun(S));
    expect(await runCli(['compare', join(dir, 'run1'), join(dir, 'nowhere')], deps)).toBe(1);
    expect(deps.err[0]).toContain(join(dir, 'nowhere/eval/report.json'));
    expect(deps.err[0]).toMatch(/no evaluation report/);
    writeGreyPng(join(dir, 'broken/eval/x.png'), 2, () => 0);
    writeFileSync(join(dir, 'broken/eval/report.json'), '{"format": "something else"}');
    const deps2 = fakeDeps(fakeRun(S));
    expect(await runCli(['compare', join(dir, 'broken')], deps2)).toBe(1);
    expect(deps2.err[0]).toMatch(/broken\/eval\/report\.json: not a squid-eval report: format/);
    expect(existsSync(join(dir, 'run1/eval/report.json'))).toBe(true);
  });
});

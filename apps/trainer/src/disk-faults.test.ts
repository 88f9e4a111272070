// Faults of the disk under a run folder, on the built CLIs in their own processes: a small tmpfs
// that fills at each kind of write (sample grid, metrics.jsonl, checkpoint, train.log, evaluation
// report, bundle), and kill -9 between an epoch's writes. The trainer stops itself before a
// chosen write (SQUID_TEST_STOP_AT, test-only); the test then fills the disk with a file sized so
// that exactly that write has no room (or kills the process) and lets it go on. Each fault: exit
// 1, one line naming the file, the size and the free space, no temporary file left, and after the
// space is freed `--resume` ends with one metrics.jsonl row per epoch, equal to an uninterrupted
// run's rows except timings.
import { execFileSync } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statfsSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@squid-ad/backend';
import { readCheckpoint, readMetrics, runPaths } from '@squid-ad/squid';
import { builtCli, type CliExit, type StartedCli, startCli } from '@squid-ad/test-utils/built-cli';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const trainCli = builtCli('trainer');
const evalCli = builtCli('evaluator');
const root = mkdtempSync(join(tmpdir(), 'squid-disk-faults-'));
const disk = join(root, 'disk');
mkdirSync(disk);

/** Why a 128 MB tmpfs cannot be mounted here (the tests that need one skip), or undefined once mounted. */
const cannotMount = ((): string | undefined => {
  if (process.platform !== 'linux') return 'mounting a tmpfs needs Linux';
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=128m', 'tmpfs', disk], { stdio: 'pipe' });
    return undefined;
  } catch (err) {
    const said = String((err as { stderr?: Buffer }).stderr ?? (err as Error).message).trim();
    return `cannot mount a tmpfs at ${disk} (${said}): needs root or CAP_SYS_ADMIN`;
  }
})();
afterAll(() => {
  if (!cannotMount) execFileSync('umount', [disk]);
  rmSync(root, { recursive: true, force: true });
});

// Seed 2: the validation AUC improves at epochs 1-3 and not at 4 (checked below), so every
// kind of checkpoint write happens after epoch 1; keepEvery 2 keeps epochs 2 and 4.
const EPOCHS = 4;
const config = join(root, 'tiny.json');
writeFileSync(
  config,
  JSON.stringify({
    squid: { train: { iterationsPerEpoch: 1 } },
    run: {
      normImages: 2,
      sampleEvery: 1,
      keepEvery: 2,
      data: { trainLength: 8, valNormal: 2, valAbnormal: 2 },
    },
  }),
);
const trainArgs = (out: string, resume: boolean) => [
  ...['--preset', 'tiny', '--batch-size', '2', '--epochs', String(EPOCHS), '--seed', '2'],
  ...['--config', config, '--out', out, ...(resume ? ['--resume'] : [])],
];

/** The rows of metrics.jsonl without what depends on the machine's speed. */
const untimed = (dir: string) =>
  readMetrics(dir).map(({ seconds, imagesPerSecond, timings, val, ...row }) => ({
    ...row,
    val: val && { ...(val as object), seconds: undefined },
  }));
const epochsOf = (dir: string) => readMetrics(dir).map((m) => m.epoch as number);
const lastEpoch = (dir: string) =>
  readCheckpoint<{ epoch: number }>(runPaths(dir).checkpoint('last')).meta.epoch;
/** Temporary files (`.tmp`, `.partial`) anywhere under `dir`. */
const temporaries = (dir: string): string[] =>
  readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => /\.(tmp|partial)$/.test(f));

/** The uninterrupted run (normal disk), once. */
let reference: Promise<{ dir: string; improved: number[] }> | undefined;
const referenceRun = () => {
  reference ??= (async () => {
    const dir = join(root, 'reference');
    const r = await startCli(trainCli, trainArgs(dir, false)).done;
    expect(r.code, r.stderr).toBe(0);
    // Epochs whose validation AUC beat every earlier one (a `best` checkpoint is written).
    const improved: number[] = [];
    let best = Number.NEGATIVE_INFINITY;
    for (const m of readMetrics(dir) as { epoch: number; val: { auc: number | null } }[]) {
      if (m.val.auc !== null && m.val.auc > best) {
        best = m.val.auc;
        improved.push(m.epoch);
      }
    }
    return { dir, improved };
  })();
  return reference;
};

/** Resolves once process `pid` is stopped (state T in /proc). */
async function untilStopped(pid: number): Promise<void> {
  for (;;) {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('T')) return;
    await new Promise((r) => setTimeout(r, 10));
  }
}

/**
 * Runs squid-train with SQUID_TEST_STOP_AT=`stopAt`; once it has stopped itself there, `atStop`
 * acts (fills the disk and continues it, or kills it). Resolves how it ended.
 */
async function trainStoppedAt(
  args: string[],
  stopAt: string,
  atStop: (child: StartedCli) => void,
): Promise<CliExit & { reached: boolean }> {
  const child = startCli(trainCli, args, { ...process.env, SQUID_TEST_STOP_AT: stopAt });
  const reached = new Promise<boolean>((resolve) => {
    child.onStderr((text) => {
      if (text.includes(`test stop point ${stopAt}\n`)) resolve(true);
    });
    void child.done.then(() => resolve(false));
  });
  if (await reached) {
    await untilStopped(child.pid!);
    atStop(child);
  }
  return { ...(await child.done), reached: await reached };
}

const filler = join(disk, 'filler');
const freeBytes = () => {
  const s = statfsSync(disk);
  return s.bavail * s.bsize;
};
/** Fills the tmpfs so that exactly `leave` bytes (a multiple of 4 KiB) stay free. */
function fill(leave: number): void {
  writeFileSync(filler, Buffer.alloc(freeBytes() - leave));
  expect(freeBytes()).toBe(leave);
}
const unfill = () => rmSync(filler, { force: true });

/** The one `squid-…:` line of stderr. */
const errorLine = (stderr: string, cli: string) => {
  const lines = stderr.split('\n').filter((l) => l.startsWith(`${cli}: `));
  expect(lines, stderr).toHaveLength(1);
  return lines[0];
};
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

describe.skipIf(cannotMount)(
  `a full disk under the run folder${cannotMount ? ` (skipped: ${cannotMount})` : ''}`,
  () => {
    const run = join(disk, 'run');
    const paths = runPaths(run);
    const tried: string[] = [];
    let improved: number[] = [];
    beforeAll(async () => {
      ({ improved } = await referenceRun());
    }, 300_000);
    afterAll(() => console.log(`disk faults tried:\n  ${tried.join('\n  ')}`));

    /**
     * Trains until `point@epoch`, leaves `leave` bytes free there and continues: expects exit 1 and
     * the one-line message for `file`, with the last good checkpoint at `good` epochs.
     */
    async function fullAt(point: string, epoch: number, leave: number, file: string, good: number | null) {
      unfill();
      const resume = existsSync(paths.checkpoint('last'));
      const r = await trainStoppedAt(trainArgs(run, resume), `${point}@${epoch}`, (child) => {
        fill(leave);
        child.kill('SIGCONT');
      });
      expect(r.reached, r.stderr).toBe(true);
      expect(r.code, r.stderr).toBe(1);
      const line = errorLine(r.stderr, 'squid-train');
      const free = { 0: '0 bytes', 8192: '8.2 KB', [2 ** 20]: '1 MB' }[leave];
      const then =
        good === null
          ? 'start the run again (no checkpoint was written yet)'
          : `continue with: squid-train --out ${run} --resume (last good checkpoint: ${paths.checkpoint('last')}, epoch ${good})`;
      expect(line).toMatch(
        new RegExp(
          `^squid-train: cannot write ${esc(file)}: no space left on device \\(needs ~[\\d.]+ (bytes|KB|MB), ${free} free on ${esc(disk)}\\); free some space on ${esc(disk)}, then ${esc(then)}$`,
        ),
      );
      expect(temporaries(run)).toEqual([]);
      if (good !== null) expect(lastEpoch(run)).toBe(good);
      tried.push(`${point}@${epoch}, ${free} free: exit 1, ${line}`);
      unfill();
      return line;
    }

    it('fails at each kind of write with one line (file, needs, free, what to do); --resume then gives one row per epoch', async () => {
      const ref = await referenceRun();
      const b = improved.find((e) => e >= 2);
      const n = [2, 3, 4].find((e) => !improved.includes(e) && e > (b ?? 0));
      // The recipe above must write `best` after epoch 1 and a plain `last` after that.
      expect({ b, n }).toEqual({ b: 2, n: 4 });
      const grid = statSync(join(ref.dir, 'samples', 'epoch-0002.png')).size;
      expect(grid).toBeGreaterThan(8192);

      // The sample grid (~11 KB, 8 KB free): epoch 2 stops before its row; train.log says so.
      await fullAt('sample', 2, 8192, join(paths.samples, 'epoch-0002.png'), 1);
      expect(epochsOf(run)).toEqual([1]);
      expect(readFileSync(paths.log, 'utf8').trimEnd().split('\n').at(-1)).toContain(
        `stopped: cannot write ${join(paths.samples, 'epoch-0002.png')}: no space left on device`,
      );

      // metrics.jsonl (a full disk): no half row; train.log cannot take the stop line either, the
      // terminal line names the last good checkpoint.
      await fullAt('metrics', 2, 0, paths.metrics, 1);
      expect(epochsOf(run)).toEqual([1]);
      expect(readFileSync(paths.metrics, 'utf8').endsWith('}\n')).toBe(true);

      // best.safetensors (~14 MB, 1 MB free): epoch 2's row was written, its checkpoint was not.
      await fullAt('best', b!, 2 ** 20, paths.checkpoint('best'), b! - 1);
      expect(epochsOf(run)).toEqual([1, 2]);

      // train.log, after epoch 2 is committed: --resume first cut the row of the lost epoch 2 and
      // trained it again.
      const log = await fullAt('log', b!, 0, paths.log, b!);
      expect(epochsOf(run)).toEqual([1, 2]);
      expect(readFileSync(paths.log, 'utf8')).not.toContain(log.slice('squid-train: '.length));

      // last.safetensors of an epoch that is no new best (1 MB free).
      await fullAt('last', n!, 2 ** 20, paths.checkpoint('last'), n! - 1);
      expect(epochsOf(run)).toEqual([1, 2, 3, 4]);

      // Space freed: --resume trains epoch 4 again and ends with one row per epoch, the reference's.
      const r = await startCli(trainCli, trainArgs(run, true)).done;
      expect(r.code, r.stderr).toBe(0);
      expect(epochsOf(run)).toEqual([1, 2, 3, 4]);
      expect(untimed(run)).toEqual(untimed(ref.dir));
      expect(lastEpoch(run)).toBe(EPOCHS);
      expect(readCheckpoint<{ epoch: number }>(paths.checkpoint('best')).meta.epoch).toBe(3);
      expect(existsSync(paths.checkpoint('epoch-0002'))).toBe(true);
      expect(existsSync(paths.checkpoint('epoch-0004'))).toBe(true);
      expect(temporaries(run)).toEqual([]);
      tried.push(
        `then --resume with space: exit 0, rows ${epochsOf(run).join(',')} equal to the uninterrupted run's`,
      );
    }, 300_000);

    it('squid-eval export and evaluate fail with the same line, leave nothing behind, and succeed once space is freed', async () => {
      expect(lastEpoch(run)).toBe(EPOCHS); // the run trained above
      // The bundle (~5 MB of weights, 1 MB free): checked before anything is written.
      const bundle = join(disk, 'bundle');
      fill(2 ** 20);
      const exported = await startCli(evalCli, ['export', '--run', run, '--out', bundle]).done;
      unfill();
      expect(exported.code, exported.stderr).toBe(1);
      const line = errorLine(exported.stderr, 'squid-eval');
      expect(line).toMatch(
        new RegExp(
          `^squid-eval: cannot write ${esc(bundle)}/weights-[0-9a-f]{12}\\.safetensors: no space left on device \\(needs ~[\\d.]+ MB, 1 MB free on ${esc(disk)}\\); free some space on ${esc(disk)}, or write elsewhere$`,
        ),
      );
      expect(existsSync(bundle)).toBe(false);
      tried.push(`squid-eval export, 1 MB free: exit 1, ${line}`);
      const again = await startCli(evalCli, ['export', '--run', run, '--out', bundle]).done;
      expect(again.code, again.stderr).toBe(0);
      expect(readdirSync(bundle).sort()).toEqual(['bundle.json', expect.stringMatching(/^weights-/)]);

      // The report (a full disk): its first file fails.
      const report = join(run, 'eval');
      const args = ['evaluate', '--run', run, '--split', 'val', '--resamples', '10'];
      fill(0);
      const evaluated = await startCli(evalCli, args).done;
      unfill();
      expect(evaluated.code, evaluated.stderr).toBe(1);
      const evalLine = errorLine(evaluated.stderr, 'squid-eval');
      expect(evalLine).toMatch(
        new RegExp(
          `^squid-eval: cannot write ${esc(report)}/[a-z]+\\.[a-z]+: no space left on device \\(needs ~[\\d.]+ (bytes|KB|MB), 0 bytes free on ${esc(disk)}\\); free some space on ${esc(disk)}, or write elsewhere$`,
        ),
      );
      expect(existsSync(report) ? temporaries(report) : []).toEqual([]);
      tried.push(`squid-eval evaluate, 0 bytes free: exit 1, ${evalLine}`);
      const evaluatedAgain = await startCli(evalCli, args).done;
      expect(evaluatedAgain.code, evaluatedAgain.stderr).toBe(0);
      expect(existsSync(join(report, 'report.html'))).toBe(true);
    }, 300_000);
  },
);

describe('kill -9 between the writes of an epoch', () => {
  it('at seeded points, then --resume: one row per epoch, equal to an uninterrupted run except timings', async () => {
    const ref = await referenceRun();
    const out = join(root, 'killed');
    const last = runPaths(out).checkpoint('last');
    const rng = Rng.fromSeed(28);
    const tried: string[] = [];
    // The writes of epoch e in the trainer's order (SQUID_TEST_STOP_AT points).
    const points = (e: number) => [
      'sample',
      'metrics',
      ...(ref.improved.includes(e) ? ['best'] : []),
      'last',
      ...(e % 2 === 0 ? ['keep'] : []),
      'log',
    ];
    // A seeded point in each of epochs 1-3, then the gap between epoch 4's row and its `last`.
    for (let e = 1; e <= EPOCHS; e++) {
      const at = points(e);
      const point = e < EPOCHS ? `${at[Math.floor(rng.uniform(0, at.length))]}@${e}` : `last@${e}`;
      const r = await trainStoppedAt(trainArgs(out, existsSync(last)), point, (child) =>
        child.kill('SIGKILL'),
      );
      expect(r.reached, r.stderr).toBe(true);
      expect(r.signal).toBe('SIGKILL');
      tried.push(
        `${point}: killed; checkpoint at epoch ${existsSync(last) ? lastEpoch(out) : 'none'}, rows ${epochsOf(out).join(',') || 'none'}`,
      );
    }
    const r = await startCli(trainCli, trainArgs(out, existsSync(last))).done;
    expect(r.code, r.stderr).toBe(0);
    expect(epochsOf(out)).toEqual([1, 2, 3, 4]);
    expect(untimed(out)).toEqual(untimed(ref.dir));
    expect(temporaries(out)).toEqual([]);
    console.log(`kill -9 points:\n  ${tried.join('\n  ')}\n  then --resume: exit 0, rows equal`);
  }, 300_000);
});

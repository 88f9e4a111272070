// Faults injected into squid-train and squid-eval as a user runs them (the CLI entry points, in
// their own processes): kill -9 at seeded random moments and while a checkpoint is being written,
// concurrent trainers, damaged and NaN checkpoints. Each asserts the exit code, the message, and
// that nothing recorded before the fault is lost.
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  watch,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@squid-ad/backend';
import { readCheckpoint, readMetrics, runPaths } from '@squid-ad/squid';
import { builtCli, startCli } from '@squid-ad/test-utils/built-cli';
import { afterAll, describe, expect, it } from 'vitest';

const trainCli = builtCli('trainer');
const evalCli = builtCli('evaluator');
const root = mkdtempSync(join(tmpdir(), 'squid-faults-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const EPOCHS = 30;
const config = join(root, 'tiny.json');
writeFileSync(
  config,
  JSON.stringify({
    squid: { train: { iterationsPerEpoch: 1 } },
    run: { normImages: 2, sampleEvery: 1000, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } },
  }),
);
const trainArgs = (out: string, resume: boolean, epochs = EPOCHS) => [
  ...['--preset', 'tiny', '--batch-size', '2', '--epochs', String(epochs), '--config', config],
  ...['--out', out, ...(resume ? ['--resume'] : [])],
];

/** Epochs recorded in metrics.jsonl. */
const epochsOf = (dir: string) => readMetrics(dir).map((m) => m.epoch as number);
/** Epochs finished in the run's `last` checkpoint (0 without one). */
const committedOf = (dir: string) =>
  existsSync(runPaths(dir).checkpoint('last'))
    ? readCheckpoint<{ epoch: number }>(runPaths(dir).checkpoint('last')).meta.epoch
    : 0;

describe('fault injection on the CLIs', () => {
  it('kill -9 at random moments and during checkpoint writes loses nothing; --resume finishes the run', async () => {
    const out = join(root, 'killed');
    const rng = Rng.fromSeed(2026);
    let kills = 0;
    let duringWrites = 0;
    for (let round = 0; round < 6; round++) {
      // The rows of the epochs the checkpoint holds (a row past it, whose epoch's checkpoint a
      // kill prevented, is recorded again when that epoch is trained again).
      const committed = committedOf(out);
      const before = existsSync(runPaths(out).metrics) ? epochsOf(out).filter((e) => e <= committed) : [];
      const resume = existsSync(runPaths(out).checkpoint('last'));
      const child = startCli(trainCli, trainArgs(out, resume));
      // Odd rounds: the moment a checkpoint's temporary file appears; even rounds: a random time
      // 1.5–4.5 s after the spawn (TensorFlow.js starts in ~1.5 s, an epoch takes well under 1 s).
      const killed = new Promise<void>((resolve) => {
        let watcher: ReturnType<typeof watch> | undefined;
        const timers: NodeJS.Timeout[] = [];
        const finish = () => {
          watcher?.close();
          for (const t of timers) clearInterval(t);
          resolve();
        };
        // A child that ends by itself (finished, or failed) ends the round too.
        child.on('exit', finish);
        if (round % 2 === 1) {
          const poll = setInterval(() => {
            if (!existsSync(runPaths(out).checkpoints)) return;
            clearInterval(poll);
            watcher = watch(runPaths(out).checkpoints, (_event, name) => {
              if (!name?.endsWith('.partial')) return;
              child.kill('SIGKILL');
              duringWrites++;
              finish();
            });
          }, 5);
          timers.push(poll);
        } else {
          timers.push(
            setTimeout(
              () => {
                child.kill('SIGKILL');
                finish();
              },
              rng.uniform(1500, 4500),
            ),
          );
        }
      });
      await killed;
      const r = await child.done;
      if (r.signal === 'SIGKILL') kills++;
      else expect(r.code, r.stderr).toBe(0); // finished before the kill
      // Whatever was recorded up to the checkpoint before this fault is still there; one row per
      // epoch, in order, up to the checkpoint's epoch or one past it (written before `last`).
      if (existsSync(runPaths(out).metrics)) {
        const after = epochsOf(out);
        expect(after.slice(0, before.length)).toEqual(before);
        expect(after).toEqual(Array.from({ length: after.length }, (_, i) => i + 1));
        expect(after.length - committedOf(out)).toBeOneOf([0, 1]);
      }
      // Every complete checkpoint reads in full (checksum included); a kill mid-write leaves
      // at most a .partial, which the next start removes.
      if (existsSync(runPaths(out).checkpoints)) {
        for (const f of readdirSync(runPaths(out).checkpoints).filter((f) => f.endsWith('.safetensors')))
          expect(() => readCheckpoint(join(runPaths(out).checkpoints, f))).not.toThrow();
      }
    }
    expect(kills).toBeGreaterThanOrEqual(4);
    const last = startCli(trainCli, trainArgs(out, existsSync(runPaths(out).checkpoint('last'))));
    const r = await last.done;
    expect(r.code, r.stderr).toBe(0);
    expect(epochsOf(out)).toEqual(Array.from({ length: EPOCHS }, (_, i) => i + 1));
    expect(readdirSync(runPaths(out).checkpoints).filter((f) => f.endsWith('.partial'))).toEqual([]);
    expect(readCheckpoint<{ epoch: number }>(runPaths(out).checkpoint('last')).meta.epoch).toBe(EPOCHS);
    // How many kills landed inside a checkpoint write depends on timing (the invariants above
    // hold either way); the count is in the test's output.
    console.log(`fault injection: ${kills} kills, ${duringWrites} as a checkpoint was being written`);
  }, 300_000);

  it('a second trainer on the same --out is refused while the first runs (exit 1, who holds it)', async () => {
    const out = join(root, 'twice');
    // Far more epochs than the test waits for: the first is stopped (Ctrl-C) once the second was refused.
    const epochs = 500;
    const first = startCli(trainCli, trainArgs(out, false, epochs));
    // Wait until the first has a checkpoint, so that the second, a --resume, gets past the
    // run-folder checks to the lock.
    while (!existsSync(runPaths(out).checkpoint('last'))) await new Promise((r) => setTimeout(r, 50));
    const second = await startCli(trainCli, trainArgs(out, true, epochs)).done;
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(
      new RegExp(`is being trained by pid ${first.pid} since .*one trainer per run folder`),
    );
    first.kill('SIGINT');
    const r = await first.done;
    expect(r.code, r.stderr).toBe(0);
    // The refused trainer wrote nothing: one record per epoch, in order.
    const recorded = epochsOf(out);
    expect(recorded).toEqual(Array.from({ length: recorded.length }, (_, i) => i + 1));
    expect(existsSync(join(out, 'train.lock'))).toBe(false);
  }, 300_000);

  it('a damaged checkpoint is refused by --resume and by squid-eval, naming the file (exit 1)', async () => {
    const out = join(root, 'twice');
    const last = runPaths(out).checkpoint('last');
    const good = readFileSync(last);
    // One flipped bit in the tensor data.
    const flipped = Buffer.from(good);
    flipped[flipped.length - 3] ^= 0x10;
    writeFileSync(last, flipped);
    const recorded = readMetrics(out).length;
    // (the images to score: the sample grids the first test's finished run wrote)
    const resumed = await startCli(trainCli, trainArgs(out, true, recorded + 1)).done;
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(`checkpoint ${last}: its tensor data does not match the checksum`);
    const scored = await startCli(evalCli, [
      'score',
      '--run',
      out,
      '--checkpoint',
      'last',
      join(root, 'killed', 'samples'),
    ]).done;
    expect(scored.code).toBe(1);
    expect(scored.stderr).toContain(`checkpoint ${last}: its tensor data does not match the checksum`);
    expect(readMetrics(out)).toHaveLength(recorded); // nothing recorded was touched
    writeFileSync(last, good);
  }, 300_000);

  it('a checkpoint holding NaN weights (checksum intact) is refused, naming file and tensor (exit 1)', async () => {
    const out = join(root, 'twice');
    const last = runPaths(out).checkpoint('last');
    const good = readFileSync(last);
    // A diverged run's checkpoint: NaN written into the first float of a weight, checksum redone.
    const n = Number(good.readBigUInt64LE(0));
    const header = JSON.parse(good.subarray(8, 8 + n).toString('utf8'));
    const [name, entry] = Object.entries(header).find(
      ([k, v]) => k !== '__metadata__' && (v as { dtype: string }).dtype === 'F32',
    ) as [string, { data_offsets: [number, number] }];
    const nan = Buffer.from(good);
    nan.writeFloatLE(Number.NaN, 8 + n + entry.data_offsets[0]);
    const sum = createHash('sha256')
      .update(nan.subarray(8 + n))
      .digest('hex');
    const oldSum = header.__metadata__['squid.sha256'] as string;
    nan.set(
      Buffer.from(
        good
          .subarray(8, 8 + n)
          .toString('utf8')
          .replace(oldSum, sum),
        'utf8',
      ),
      8,
    );
    writeFileSync(last, nan);
    const resumed = await startCli(trainCli, trainArgs(out, true, readMetrics(out).length + 1)).done;
    expect(resumed.code).toBe(1);
    expect(resumed.stderr).toContain(
      `checkpoint ${last}: ${name} holds 1 non-finite value (NaN or ±Infinity)`,
    );
    writeFileSync(last, good);
  }, 300_000);

  it('squid-eval score on a corrupt-image corpus names every bad file and exits 2', async () => {
    const corpus = join(root, 'corpus');
    mkdirSync(corpus, { recursive: true });
    const grid = readdirSync(join(root, 'killed', 'samples')).find((f) => f.endsWith('.png')) as string;
    const png = readFileSync(join(root, 'killed', 'samples', grid));
    const bad: Record<string, Buffer> = {
      'empty.png': Buffer.alloc(0),
      'text.png': Buffer.from('not an image'),
      'cut.png': png.subarray(0, png.length >> 1),
    };
    writeFileSync(join(corpus, 'good.png'), png);
    for (const [f, bytes] of Object.entries(bad)) writeFileSync(join(corpus, f), bytes);
    const r = await startCli(evalCli, ['score', '--run', join(root, 'killed'), corpus]).done;
    expect(r.code).toBe(2);
    for (const f of Object.keys(bad))
      expect(r.stderr).toContain(`squid-eval score: bad image ${join(corpus, f)}: `);
    expect(r.stderr).not.toContain('good.png');
  }, 300_000);
});

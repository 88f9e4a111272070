// A training sweep on a real redis-server: workers are the CLI in their own processes, one is
// killed -9 mid-run; the retried job must resume from its checkpoint and end bit for bit where an
// uninterrupted run ends.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@squid-ad/backend';
import { type CheckpointMeta, readCheckpoint, readMetrics, runPaths, trainRun } from '@squid-ad/squid';
import { builtCli, startCli } from '@squid-ad/test-utils/built-cli';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runTrainCli } from './program.js';
import { sweepFlagsSchema, sweepJobs } from './sweep.js';

const trainCli = builtCli('trainer');
const env = { ...process.env, SQUID_THREADS: '1' };
const skip = redisUnavailable();
const root = mkdtempSync(join(tmpdir(), 'squid-queue-sweep-'));
const EPOCHS = 6;
let redis: RedisServer;

beforeAll(async () => {
  if (!skip) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(skip)(`squid-train sweep on a real Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('2 tiny seeds, a worker killed -9 mid-run: the retry resumes from its checkpoint and ends equal to a straight run', async () => {
    const config = join(root, 'small.json');
    writeFileSync(
      config,
      JSON.stringify({
        run: {
          normImages: 2,
          sampleEvery: 1000,
          validateEvery: 2,
          data: { trainLength: 8, valNormal: 2, valAbnormal: 2 },
        },
      }),
    );
    const outRoot = join(root, 'sweep');
    const flags = [
      ...['--preset', 'tiny', '--seeds', '0-1', '--epochs', String(EPOCHS), '--steps-per-epoch', '1'],
      ...['--batch-size', '2', '--config', config, '--out-root', outRoot],
    ];
    const err: string[] = [];
    const io = { stdout: () => {}, stderr: (l: string) => err.push(l) };
    expect(await runTrainCli(['sweep', '--queue', redis.url, ...flags], io), err.join('\n')).toBe(0);

    const worker = [
      'worker',
      '--queue',
      redis.url,
      '--backend',
      'wasm',
      '--lock-seconds',
      '2',
      '--poll-seconds',
      '0.3',
    ];
    const a = startCli(trainCli, [...worker, '--exit-when-idle'], env);
    // Kill a once its first run has checkpointed epoch 3 (and so is well under way).
    await new Promise<void>((resolve) => {
      a.onStderr((text) => {
        if (
          new RegExp(`tiny-seed0: epoch 3/${EPOCHS}`).test(text) &&
          a.exitCode === null &&
          a.signalCode === null
        ) {
          a.kill('SIGKILL');
          resolve();
        }
      });
    });
    expect((await a.done).signal).toBe('SIGKILL');
    const b = startCli(trainCli, [...worker, '--exit-when-idle', '--json'], env);
    const rb = await b.done;
    expect(rb.code, b.stderr()).toBe(0);
    expect(b.stderr()).toContain('tiny-seed0: resuming');
    // b's stdout: the backend, each run started then done once with its result, the stop. (On a
    // loaded machine a run can start twice: its 2 s lock lapsed while a step blocked the event loop.)
    const events = b.events();
    expect(events[0]).toMatchObject({ type: 'backend', backend: 'wasm' });
    expect(events.at(-1)).toEqual({ type: 'stopped', runs: 2 });
    for (const name of ['tiny-seed0', 'tiny-seed1']) {
      const mine = events.filter((e) => e.name === name);
      expect(mine[0], name).toMatchObject({ type: 'run', state: 'started' });
      expect(
        mine.filter((e) => e.state === 'done'),
        name,
      ).toHaveLength(1);
      expect(mine.at(-1)).toMatchObject({
        type: 'run',
        state: 'done',
        status: 'completed',
        epoch: EPOCHS,
        runDir: join(outRoot, name),
      });
    }

    // One folder per run, no second one for the retry; every epoch recorded once, in order.
    expect(readdirSync(outRoot).sort()).toEqual(['tiny-seed0', 'tiny-seed1']);
    const seed0 = join(outRoot, 'tiny-seed0');
    const resumedAt = Number(
      /resumed .* at epoch (\d+)/.exec(readFileSync(runPaths(seed0).log, 'utf8'))?.[1],
    );
    expect(resumedAt).toBeGreaterThanOrEqual(4); // never from zero
    for (const dir of readdirSync(outRoot))
      expect(readMetrics(join(outRoot, dir)).map((m) => m.epoch)).toEqual(
        Array.from({ length: EPOCHS }, (_, i) => i + 1),
      );

    // The same jobs trained straight through, here: the checkpoints must be equal, tensor for tensor.
    await initBackend({ backend: 'wasm' });
    const parsed = sweepFlagsSchema.parse({
      preset: 'tiny',
      seeds: '0-1',
      epochs: EPOCHS,
      stepsPerEpoch: 1,
      batchSize: 2,
      config,
      outRoot,
    });
    for (const job of sweepJobs(parsed)) {
      const ref = join(root, 'straight', job.name);
      const r = await trainRun({ runDir: ref, config: job.config });
      expect(r.status).toBe('completed');
      const want = readCheckpoint<CheckpointMeta>(runPaths(ref).checkpoint('last'));
      const got = readCheckpoint<CheckpointMeta>(runPaths(job.out).checkpoint('last'));
      expect(got.meta.iteration).toBe(want.meta.iteration);
      expect([...got.tensors.keys()].sort()).toEqual([...want.tensors.keys()].sort());
      for (const [name, t] of want.tensors) {
        const g = got.tensors.get(name);
        expect(g?.shape, name).toEqual(t.shape);
        expect(Buffer.from(g!.data.buffer).equals(Buffer.from(t.data.buffer)), `${job.name}: ${name}`).toBe(
          true,
        );
      }
    }
    expect(existsSync(join(seed0, 'train.lock'))).toBe(false);
  }, 300_000);
});

// Faults around a run's owner, in-process against real files and a real redis-server: a
// train.lock left by a trainer on a host that is gone (refused, naming --break-lock; taken over
// with it, by squid-train and by squid-train worker), and a sweep whose Redis restarts empty
// (`sweep --wait` names the lost runs, exit 2).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { lockPathOf, readMetrics, runPaths } from '@squid-ad/squid';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { runTrainCli } from './program.js';

const skip = redisUnavailable();
const root = mkdtempSync(join(tmpdir(), 'squid-queue-faults-'));
const config = join(root, 'small.json');
writeFileSync(
  config,
  JSON.stringify({
    run: { normImages: 2, sampleEvery: 1000, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } },
  }),
);
const tiny = ['--preset', 'tiny', '--steps-per-epoch', '1', '--batch-size', '2', '--config', config];
let redis: RedisServer | undefined;
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function train(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runTrainCli(args, { stdout: (l) => out.push(l), stderr: (l) => err.push(l) });
  return { code, out, err };
}

/** What a trainer on `host` that died leaves behind. */
const foreignLock = (runDir: string, host: string) => {
  mkdirSync(runDir, { recursive: true });
  writeFileSync(lockPathOf(runDir), JSON.stringify({ pid: 4242, host, startedAt: '2026-01-01T00:00:00Z' }));
};

const refusal = (runDir: string) =>
  `${runDir} is being trained by pid 4242 on gone-node since 2026-01-01T00:00:00Z (${lockPathOf(runDir)}); ` +
  'wait for it, or if gone-node is gone (the machine down, that trainer killed) take the run over with ' +
  '--break-lock gone-node (squid-train, squid-train worker)';

describe('a train.lock left by a trainer on another host', () => {
  it('squid-train refuses it naming --break-lock; --break-lock HOST takes the run over', async () => {
    const run = join(root, 'run');
    const first = await train([...tiny, '--epochs', '1', '--backend', 'wasm', '--out', run]);
    expect(first.code, first.err.join('\n')).toBe(0);
    foreignLock(run, 'gone-node');
    const resume = ['--out', run, '--resume', '--epochs', '2', '--backend', 'wasm'];
    const refused = await train(resume);
    expect(refused.code).toBe(1);
    expect(refused.err.at(-1)).toBe(`squid-train: ${refusal(run)}`);
    // Naming another host breaks nothing.
    expect((await train([...resume, '--break-lock', 'other-node'])).err.at(-1)).toBe(
      `squid-train: ${refusal(run)}`,
    );
    expect(readMetrics(run).map((m) => m.epoch)).toEqual([1]);
    const taken = await train([...resume, '--break-lock', 'gone-node']);
    expect(taken.code, taken.err.join('\n')).toBe(0);
    expect(readMetrics(run).map((m) => m.epoch)).toEqual([1, 2]);
    expect(readFileSync(runPaths(run).log, 'utf8')).toMatch(
      /took over .*train\.lock from pid 4242 on gone-node \(since 2026-01-01T00:00:00Z\): --break-lock gone-node/,
    );
    expect(existsSync(lockPathOf(run))).toBe(false);
  }, 120_000);

  it.skipIf(skip)(
    'squid-train worker: the job fails naming --break-lock; a worker with it trains the run',
    async () => {
      redis = await startRedisServer();
      const outRoot = join(root, 'sweep');
      const run = join(outRoot, 'tiny-seed0');
      foreignLock(run, 'gone-node');
      const sweep = [
        'sweep',
        '--queue',
        redis.url,
        ...tiny,
        '--epochs',
        '1',
        '--seeds',
        '0',
        '--out-root',
        outRoot,
      ];
      expect((await train(sweep)).code).toBe(0);
      const worker = [
        'worker',
        '--queue',
        redis.url,
        '--backend',
        'wasm',
        '--exit-when-idle',
        '--poll-seconds',
        '0.2',
      ];
      const w1 = await train(worker);
      expect(w1.code, w1.err.join('\n')).toBe(0);
      // Failed at once (a lock does not go away by retrying), naming the flag.
      expect(w1.err.filter((l) => l.includes(': failed (attempt'))).toEqual([
        expect.stringMatching(/^squid-train worker: squid-train-\w+ tiny-seed0: failed \(attempt 1\): /),
      ]);
      expect(w1.err.find((l) => l.includes(': failed (attempt'))?.endsWith(refusal(run))).toBe(true);
      // Posting again retries the failed run; a worker told that gone-node is gone takes it over.
      expect((await train(sweep)).err[0]).toMatch(/already queued \(1 failed runs retried\)/);
      const w2 = await train([...worker, '--break-lock', 'gone-node']);
      expect(w2.code, w2.err.join('\n')).toBe(0);
      const done = await train([...sweep, '--wait']);
      expect(done.code, done.err.join('\n')).toBe(0);
      expect(done.out[0]).toMatch(/^tiny-seed0: completed at epoch 1 /);
      expect(readMetrics(run).map((m) => m.epoch)).toEqual([1]);
      expect(readFileSync(runPaths(run).log, 'utf8')).toMatch(/took over .* from pid 4242 on gone-node/);
    },
    120_000,
  );
});

describe.skipIf(skip)(
  `a sweep whose Redis restarts without persistence${skip ? ` (skipped: ${skip})` : ''}`,
  () => {
    it('sweep --wait names each lost run and exits 2', async () => {
      redis = await startRedisServer();
      const outRoot = join(root, 'lost');
      const err: string[] = [];
      const out: string[] = [];
      const waiting = runTrainCli(
        [
          'sweep',
          '--queue',
          redis.url,
          ...tiny,
          '--epochs',
          '1',
          '--seeds',
          '0-1',
          '--out-root',
          outRoot,
          '--wait',
        ],
        { stdout: (l) => out.push(l), stderr: (l) => err.push(l) },
      );
      // No worker: both runs wait in Redis when it goes.
      while (!err.some((l) => l.includes('0/2 done'))) await new Promise((r) => setTimeout(r, 20));
      await redis.kill();
      await redis.restart();
      expect(await waiting).toBe(2);
      expect(err.filter((l) => /lost Redis at .*; reconnecting/.test(l))).toHaveLength(1);
      expect(err).toContain('squid-train sweep: 0/2 done, 0 failed, 2 lost from Redis, 0 remaining');
      expect(out).toEqual(
        ['tiny-seed0', 'tiny-seed1'].map(
          (n) =>
            `${n}: lost from Redis (restarted without persistence, or flushed); post the sweep again (its run folder resumes from its last checkpoint)`,
        ),
      );
    }, 60_000);
  },
);

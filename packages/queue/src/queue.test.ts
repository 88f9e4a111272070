// The queue layer against a real redis-server (started on a free port, stopped after).
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connectRedis } from './connect.js';
import { JobBoard } from './job-board.js';
import { PREFIX } from './keys.js';
import { finished } from './progress.js';
import { QueueWorker, RELEASE, type WorkerEvent } from './queue-worker.js';

const skip = redisUnavailable();
let redis: RedisServer;
beforeAll(async () => {
  if (!skip) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
});

describe.skipIf(skip)(`queue on a real Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('an unreachable Redis is one clear line naming the URL and how to start one', async () => {
    const port = redis.port + 1 === 65536 ? 1 : redis.port + 1;
    const url = `redis://127.0.0.1:${port}/0`;
    await expect(connectRedis(url)).rejects.toThrow(
      `cannot reach Redis at ${url} (connection refused); start one with \`redis-server --port ${port}\``,
    );
    await expect(JobBoard.open(url, 't', 'q')).rejects.toThrow(/^cannot reach Redis at /);
  });

  it('posts idempotently, two workers share the jobs, results come back in order with progress', async () => {
    const board = await JobBoard.open<{ k: number }, number[], number[]>(redis.url, 'sum', 'squid-sum-a');
    const jobs = Array.from({ length: 12 }, (_, i) => ({
      id: `chunk-${String(i).padStart(6, '0')}`,
      data: [i * 3, i * 3 + 1, i * 3 + 2],
      size: 3,
    }));
    expect(await board.post({ k: 10 }, jobs)).toEqual({ existed: false, retried: 0 });
    expect(await board.post({ k: 99 }, jobs)).toEqual({ existed: true, retried: 0 });
    expect((await board.meta())?.meta).toEqual({ k: 10 });
    expect(await board.progress()).toMatchObject({ items: 36, done: 0, remaining: 36 });
    const seen: string[] = [];
    const start = () =>
      QueueWorker.start<{ k: number }, number[], number[]>(
        { url: redis.url, kind: 'sum', exitWhenIdle: true, pollSeconds: 0.2 },
        {
          process: async (job) => {
            seen.push(job.id);
            await new Promise((r) => setTimeout(r, 5));
            return job.data.map((x) => x * job.meta.k);
          },
          summarize: (r) => ({ done: r.length - 1, failed: 1 }),
        },
      );
    const workers = await Promise.all([start(), start()]);
    await Promise.all(workers.map((w) => w.done));
    expect(workers[0].completed + workers[1].completed).toBe(12);
    expect(workers.every((w) => w.completed > 0)).toBe(true);
    expect(seen.sort()).toEqual(jobs.map((j) => j.id));
    const outcomes = await board.outcomes();
    expect(outcomes.map((o) => o.state)).toEqual(Array(12).fill('completed'));
    expect(outcomes.flatMap((o) => o.value)).toEqual(Array.from({ length: 36 }, (_, i) => i * 10));
    const p = await board.progress();
    expect(p).toMatchObject({ items: 36, done: 24, failed: 12, remaining: 0 });
    expect(finished(p)).toBe(true);
    await board.remove();
    expect(await board.meta()).toBeUndefined();
    await board.close();
  });

  it('a failing job is retried, then reported failed with its reason; a released job goes back', async () => {
    const board = await JobBoard.open<null, string, string>(redis.url, 'flaky', 'squid-flaky-a');
    await board.post(
      null,
      ['bad', 'ok', 'release'].map((d) => ({ id: `job-${d}`, data: d, size: 1 })),
      { attempts: 2 },
    );
    let released = 0;
    const events: WorkerEvent<string>[] = [];
    const worker = await QueueWorker.start<null, string, string>(
      { url: redis.url, kind: 'flaky', exitWhenIdle: true, pollSeconds: 0.2 },
      {
        process: async (job) => {
          if (job.data === 'bad') throw new Error('always broken');
          if (job.data === 'release' && released++ === 0) return RELEASE;
          return `${job.data}:${job.attempt}`;
        },
        onEvent: (e) => events.push(e),
      },
    );
    await worker.done;
    // Each job's events, as data (what `worker --json` prints).
    const of = (id: string) =>
      events
        .filter((e) => e.id === id)
        .map((e) => {
          expect(e.queue).toBe('squid-flaky-a');
          if (e.state === 'done') expect(e.seconds).toBeGreaterThanOrEqual(0);
          return [e.state, e.attempt, e.state === 'done' ? e.result : e.state === 'failed' ? e.error : null];
        });
    expect(of('job-bad')).toEqual([
      ['started', 1, null],
      ['failed', 1, 'always broken'],
      ['started', 2, null],
      ['failed', 2, 'always broken'],
    ]);
    expect(of('job-ok')).toEqual([
      ['started', 1, null],
      ['done', 1, 'ok:1'],
    ]);
    expect(of('job-release')).toEqual([
      ['started', 1, null],
      ['released', 1, null],
      ['started', 1, null],
      ['done', 1, 'release:1'],
    ]);
    const outcomes = await board.outcomes();
    expect(outcomes.map((o) => [o.id, o.state, o.value ?? o.reason])).toEqual([
      ['job-bad', 'failed', 'always broken'],
      ['job-ok', 'completed', 'ok:1'],
      // released without using up an attempt
      ['job-release', 'completed', 'release:1'],
    ]);
    expect(outcomes[0].attempts).toBe(2);
    // Posting the same work again retries what failed, and only that.
    const again = await board.post(
      null,
      ['bad', 'ok', 'release'].map((d) => ({ id: `job-${d}`, data: d, size: 1 })),
    );
    expect(again).toEqual({ existed: true, retried: 1 });
    expect((await board.progress()).jobs).toMatchObject({ failed: 0, waiting: 1, completed: 2 });
    await board.close();
  }, 60_000);

  it('a job whose lock lapsed mid-run is done again, and only the stored completion counts', async () => {
    const board = await JobBoard.open<null, string, string>(redis.url, 'lapse', 'squid-lapse-a');
    await board.post(null, [{ id: 'job-slow', data: 'slow', size: 1 }]);
    const direct = await connectRedis(redis.url);
    const events: WorkerEvent<string>[] = [];
    let runs = 0;
    const worker = await QueueWorker.start<null, string, string>(
      { url: redis.url, kind: 'lapse', exitWhenIdle: true, pollSeconds: 0.2, lockSeconds: 1 },
      {
        process: async (job) => {
          // What a worker whose event loop blocked past lockSeconds sees: its lock is gone.
          if (runs++ === 0) await direct.del(`${PREFIX}:${job.queue}:${job.id}:lock`);
          return `run ${runs}`;
        },
        onEvent: (e) => events.push(e),
      },
    );
    await worker.done;
    direct.disconnect();
    // The first run's result was refused (missing lock); the job went back and ran again.
    expect(runs).toBe(2);
    expect(worker.completed).toBe(1);
    expect(events.map((e) => e.state)).toEqual(['started', 'started', 'done']);
    expect(events[2]).toMatchObject({ id: 'job-slow', result: 'run 2' });
    expect((await board.outcomes()).map((o) => [o.state, o.value])).toEqual([['completed', 'run 2']]);
    await board.close();
  }, 60_000);
});

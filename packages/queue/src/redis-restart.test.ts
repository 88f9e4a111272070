// Workers and the board across a Redis restart, against a real redis-server killed -9 and
// started again on the same port and folder: with AOF nothing is lost; without it, the lost jobs
// are reported as missing, never waited for for ever.
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterEach, describe, expect, it } from 'vitest';
import { JobBoard } from './job-board.js';
import { finished } from './progress.js';
import { QueueWorker, type WorkerEvent } from './queue-worker.js';
import { describeMissingQueue, redisState } from './redis-state.js';

const skip = redisUnavailable();
let redis: RedisServer | undefined;
afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});

const jobs = Array.from({ length: 40 }, (_, i) => ({
  id: `chunk-${String(i).padStart(6, '0')}`,
  data: i,
  size: 1,
}));

/** Two workers doing `jobs` (20 ms each); `lines` gets every line each worker printed. */
async function twoWorkers(url: string, kind: string) {
  const events: WorkerEvent<number>[] = [];
  const lines: string[][] = [[], []];
  const workers = await Promise.all(
    [0, 1].map((w) =>
      QueueWorker.start<null, number, number>(
        { url, kind, exitWhenIdle: true, pollSeconds: 0.2, lockSeconds: 30 },
        {
          process: async (job) => {
            await new Promise((r) => setTimeout(r, 20));
            return job.data * 2;
          },
          summarize: () => ({ done: 1, failed: 0 }),
          onEvent: (e) => events.push(e),
          onLine: (l) => lines[w].push(l),
        },
      ),
    ),
  );
  return { events, lines, workers };
}

/** A worker's lines say the connection went and came back once each, and nothing per command. */
function expectSaidOnce(lines: string[]) {
  expect(lines.filter((x) => x.startsWith('lost Redis'))).toHaveLength(1);
  expect(lines.filter((x) => x.endsWith('is back'))).toHaveLength(1);
  expect(
    lines.filter(
      (x) => /ECONNREFUSED|ECONNRESET|Connection is closed/.test(x) && !x.startsWith('lost Redis'),
    ),
  ).toEqual([]);
}

describe.skipIf(skip)(`a Redis restart${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('with AOF: two workers reconnect, say so once, go on; every job done exactly once', async () => {
    redis = await startRedisServer({ appendOnly: true });
    const board = await JobBoard.open<null, number, number>(redis.url, 'restart', 'squid-restart-a');
    await board.post(null, jobs);
    const { events, lines, workers } = await twoWorkers(redis.url, 'restart');
    while (events.filter((e) => e.state === 'done').length < 10) await new Promise((r) => setTimeout(r, 5));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1000));
    await redis.restart();
    await Promise.all(workers.map((w) => w.done));
    const done = events.filter((e) => e.state === 'done').map((e) => e.id);
    expect(done.sort()).toEqual(jobs.map((j) => j.id));
    expect(workers[0].completed + workers[1].completed).toBe(40);
    for (const l of lines) expectSaidOnce(l);
    const outcomes = await board.outcomes();
    expect(outcomes.map((o) => o.value)).toEqual(jobs.map((j) => j.data * 2));
    expect(finished(await board.progress())).toBe(true);
    await board.close();
  }, 60_000);

  it('without persistence: the lost jobs are reported missing (never waited for), and Redis says it is empty', async () => {
    redis = await startRedisServer();
    const board = await JobBoard.open<null, number, number>(redis.url, 'gone', 'squid-gone-a');
    await board.post(null, jobs);
    expect(await board.jobData()).toEqual(new Map(jobs.map((j) => [j.id, j.data])));
    const { events, lines, workers } = await twoWorkers(redis.url, 'gone');
    while (events.filter((e) => e.state === 'done').length < 10) await new Promise((r) => setTimeout(r, 5));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 500));
    await redis.restart();
    // The workers reconnect, find nothing left, and stop (exitWhenIdle) without an error.
    await Promise.all(workers.map((w) => w.done));
    for (const l of lines) expectSaidOnce(l);
    // The board saw the job list before: every job is missing (results went with Redis too).
    const p = await board.progress();
    expect(p).toMatchObject({ items: 40, done: 0, failed: 0, lost: 40, remaining: 0 });
    expect(p.jobs).toMatchObject({ total: 40, missing: 40, completed: 0 });
    expect(finished(p)).toBe(true);
    const outcomes = await board.outcomes();
    expect(outcomes.map((o) => [o.id, o.state, o.reason])).toEqual(
      jobs.map((j) => [j.id, 'missing', 'lost from Redis']),
    );
    // No key of ours was written back into the emptied Redis (by a worker finishing a lost job).
    const state = await redisState(board.redis, ['gone']);
    expect(state).toMatchObject({ ours: false, appendOnly: false });
    expect(state.upSeconds).toBeLessThan(30);
    expect(describeMissingQueue(state)).toMatch(
      /^this Redis holds nothing of squid's and runs without persistence \(appendonly no\) since \d{4}-\d\d-\d\dT[\d:]+Z, \d+ s ago: work posted before then was lost/,
    );
    // Posting the same work again queues it again.
    expect(await board.post(null, jobs)).toEqual({ existed: false, retried: 0 });
    expect((await board.progress()).jobs).toMatchObject({ waiting: 40, missing: 0 });
    await board.close();
  }, 60_000);

  it('a board that has not yet seen the queue does not count jobs missing while they are being posted', async () => {
    redis = await startRedisServer({ appendOnly: true });
    const board = await JobBoard.open<null, number, number>(redis.url, 'posting', 'squid-posting-a');
    // Meta written, jobs not yet added, queue not yet registered: what a post in progress looks like.
    await board.redis.set(
      'squid-ad:meta:squid-posting-a',
      JSON.stringify({
        kind: 'posting',
        meta: null,
        jobs: jobs.map((j) => ({ id: j.id, size: 1 })),
        createdAt: 'now',
      }),
    );
    const p = await board.progress();
    expect(p.jobs).toMatchObject({ total: 40, missing: 0 });
    expect(finished(p)).toBe(false);
    // A Redis with AOF and no queue registered: nothing was posted, or it was removed.
    const state = await redisState(board.redis, ['posting']);
    expect(state).toMatchObject({ appendOnly: true, ours: false });
    expect(describeMissingQueue(state)).toMatch(
      /^this Redis \(up since \S+Z, \d+ s ago, appendonly yes\) holds nothing of squid's: nothing was posted here, or it was removed/,
    );
    await board.close();
  });
});

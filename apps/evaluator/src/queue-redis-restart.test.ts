// A real redis-server killed -9 and started again (same port, same folder) in the middle of a
// 500-image scoring with 2 workers (the built CLI in their own processes): with AOF every image is
// scored exactly once; without persistence `collect` names what was lost and exits 2.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCli, type StartedCli, startCli } from '@squid-ad/test-utils/built-cli';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { realDeps } from './real-deps.js';
import { trainTinyRunWithCli, writeDistinctImages } from './test-run.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const evalCli = builtCli('evaluator');
const env = { ...process.env, SQUID_BACKEND: 'wasm', SQUID_THREADS: '1' };
const skip = redisUnavailable();
const root = mkdtempSync(join(tmpdir(), 'squid-redis-restart-'));
const run = join(root, 'run');
const images = join(root, 'images');
const N = 500;
/** the images, in input order */
let names: string[] = [];
let redis: RedisServer | undefined;

/** The CLI in-process (producer, collector): exit code and output lines. */
async function cli(args: string[], onErr?: (line: string) => void) {
  const out: string[] = [];
  const err: string[] = [];
  const deps = realDeps({
    stdout: (l) => out.push(l),
    stderr: (l) => {
      err.push(l);
      onErr?.(l);
    },
  });
  const code = await runCli(args, deps);
  return { code, out, err };
}

/** Posts the 500 images in 50 chunks of 10; resolves to the queue's name. */
async function post(url: string): Promise<string> {
  const posted = await cli([
    ...['score', '--queue', url, '--run', run, '--chunk-size', '10', '--batch-size', '5', '--json'],
    images,
  ]);
  expect(posted.code, posted.err.join('\n')).toBe(0);
  const { queue, chunks } = JSON.parse(posted.out[0]);
  expect(chunks).toBe(50);
  return queue;
}

/** Two workers; resolves once they have finished `n` chunks between them. */
function twoWorkers(url: string, n: number): { workers: StartedCli[]; chunksDone: Promise<void> } {
  const args = ['worker', '--queue', url, '--poll-seconds', '0.3', '--exit-when-idle', '--json'];
  const workers = [startCli(evalCli, args, env), startCli(evalCli, args, env)];
  const chunksDone = new Promise<void>((resolve) => {
    const check = () => {
      const done = workers.reduce((a, w) => a + (w.stderr().match(/chunk-\d+: done/g)?.length ?? 0), 0);
      if (done >= n) resolve();
    };
    for (const w of workers) w.onStderr(check);
  });
  return { workers, chunksDone };
}

/** What each worker said about the connection: exactly one line when it went, one when it came back. */
function expectSaidOnce(w: StartedCli) {
  const lines = w.stderr().split('\n');
  expect(
    lines.filter((l) => /lost Redis at .*; reconnecting/.test(l)),
    w.stderr(),
  ).toHaveLength(1);
  expect(
    lines.filter((l) => /Redis at .* is back/.test(l)),
    w.stderr(),
  ).toHaveLength(1);
  // No per-command connection errors beside that one line.
  expect(
    lines.filter((l) => /ECONNREFUSED|ECONNRESET|Connection is closed/.test(l) && !l.includes('lost Redis')),
    w.stderr(),
  ).toEqual([]);
}

beforeAll(async () => {
  if (skip) return;
  trainTinyRunWithCli(root, run, env, repo);
  names = writeDistinctImages(images, N);
}, 300_000);

afterEach(async () => {
  await redis?.stop();
  redis = undefined;
});
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe.skipIf(skip)(`scoring across a Redis restart${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('with AOF: 2 workers reconnect and go on; every image scored exactly once', async () => {
    redis = await startRedisServer({ appendOnly: true });
    const queue = await post(redis.url);
    const { workers, chunksDone } = twoWorkers(redis.url, 10);
    await chunksDone;
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.restart();
    for (const w of workers) expect((await w.done).code, w.stderr()).toBe(0);
    for (const w of workers) expectSaidOnce(w);
    // Each of the 50 chunks done once, by one worker (none lost, none done twice).
    const done = workers.flatMap((w) =>
      w
        .events()
        .filter((e) => e.state === 'done')
        .map((e) => e.id),
    );
    expect(done.sort()).toEqual(Array.from({ length: 50 }, (_, i) => `chunk-${String(i).padStart(6, '0')}`));

    const out = join(root, 'aof.csv');
    const collected = await cli(['collect', '--queue', redis.url, '--name', queue, '--out', out]);
    expect(collected.code, collected.err.join('\n')).toBe(0);
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
    // One row per image, in input order, each with a score and no error.
    expect(rows.map((r) => r.split(',')[0])).toEqual(names);
    for (const r of rows) {
      const cells = r.split(',');
      expect(Number.isFinite(Number(cells[1])) && cells[1] !== '', r).toBe(true);
      expect(cells.at(-1), r).toBe('');
    }
  }, 180_000);

  it('without persistence: collect keeps what it had, names the lost chunks and their images, exits 2; then says Redis looks restarted', async () => {
    redis = await startRedisServer();
    const url = redis.url;
    const queue = await post(url);
    const out = join(root, 'lost.csv');
    // A collect already waiting when Redis goes: it has read what each chunk holds, and keeps
    // each result as it comes. Redis is killed once it has shown 100 images done.
    let collecting = false;
    let shown = 0;
    const collect = cli(['collect', '--queue', url, '--name', queue, '--out', out], (l) => {
      collecting = true;
      shown = Math.max(shown, Number(/: (\d+)\/500 done/.exec(l)?.[1] ?? 0));
    });
    while (!collecting) await new Promise((r) => setTimeout(r, 20));
    const { workers } = twoWorkers(url, 0);
    while (shown < 100) await new Promise((r) => setTimeout(r, 20));
    await redis.kill();
    await new Promise((r) => setTimeout(r, 1500));
    await redis.restart();
    for (const w of workers) expect((await w.done).code, w.stderr()).toBe(0);
    for (const w of workers) expectSaidOnce(w);

    const c = await collect;
    expect(c.code, c.err.join('\n')).toBe(2);
    expect(c.err.filter((l) => /lost Redis at .*; reconnecting/.test(l))).toHaveLength(1);
    // Every image has one row: scored (collected before Redis went), or failed naming its lost chunk.
    const rows = readFileSync(out, 'utf8').trim().split('\n').slice(1);
    expect(rows.map((r) => r.split(',')[0])).toEqual(names);
    const lostChunks = new Set<number>();
    rows.forEach((r, i) => {
      const k = Math.floor(i / 10);
      const cells = r.split(',');
      if (cells[1] !== '') {
        expect(Number.isFinite(Number(cells[1])), r).toBe(true);
        expect(lostChunks.has(k), r).toBe(false);
      } else {
        const chunk = `chunk-${String(k).padStart(6, '0')}`;
        expect(r).toBe(
          `${names[i]},,,,,,"its chunk ${chunk} was lost from Redis (restarted without persistence, or flushed)"`,
        );
        lostChunks.add(k);
      }
    });
    const kept = 50 - lostChunks.size;
    expect(kept).toBeGreaterThanOrEqual(10);
    expect(lostChunks.size).toBeGreaterThan(0);
    // Each lost chunk named once, with its first and last image; then what to do.
    const lostLines = c.err.filter((l) => / lost from Redis: /.test(l));
    expect(lostLines).toEqual(
      [...lostChunks].map(
        (k) =>
          `squid-eval: chunk-${String(k).padStart(6, '0')} (10 images) lost from Redis: ${names[k * 10]} … ${names[k * 10 + 9]}`,
      ),
    );
    expect(c.err).toContain(
      `squid-eval: ${lostChunks.size} of 50 chunks (${lostChunks.size * 10} images) were lost from Redis (restarted without persistence, or flushed): ` +
        'their images have failed rows; post the same images again (squid-eval score --queue …) and collect again, ' +
        'and run Redis with --appendonly yes',
    );
    expect(c.err.filter((l) => l.includes('bad image'))).toEqual([]);

    // A collect started now finds no queue at all, and says what this Redis looks like.
    const again = await cli(['collect', '--queue', url]);
    expect(again.code).toBe(1);
    expect(again.err).toHaveLength(1);
    expect(again.err[0]).toMatch(
      new RegExp(
        `^squid-eval: no scoring queue on ${url}: this Redis holds nothing of squid's and runs without persistence ` +
          `\\(appendonly no\\) since \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ, \\d+ s ago: work posted before then was lost`,
      ),
    );
  }, 180_000);
});

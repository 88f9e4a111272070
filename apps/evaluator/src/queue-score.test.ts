// Distributed scoring against a real redis-server: workers are the CLI in their own processes
// (so kill -9 hits a real worker), the producer and collector run in-process.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { builtCli, startCli } from '@squid-ad/test-utils/built-cli';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './program.js';
import { realDeps } from './real-deps.js';
import { trainTinyRunWithCli, writeDistinctImages } from './test-run.js';
import { writeGreyPng } from './testing/fakes.js';

const repo = fileURLToPath(new URL('../../..', import.meta.url));
const evalCli = builtCli('evaluator');
const env = { ...process.env, SQUID_BACKEND: 'wasm', SQUID_THREADS: '1' };
const skip = redisUnavailable();
const root = mkdtempSync(join(tmpdir(), 'squid-queue-score-'));
const run = join(root, 'run');
const images = join(root, 'images');
const N = 500;
let redis: RedisServer;
/** `squid-eval score` run locally, one parsed JSON line per image */
let local: Array<Record<string, unknown>>;

/** The CLI in-process (producer, collector): exit code and output lines. */
async function cli(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await runCli(args, realDeps({ stdout: (l) => out.push(l), stderr: (l) => err.push(l) }));
  return { code, out, err };
}

const workerArgs = (extra: string[] = []) => [
  ...['worker', '--queue', '', '--lock-seconds', '2', '--poll-seconds', '0.3', ...extra],
];

beforeAll(async () => {
  if (skip) return;
  redis = await startRedisServer();
  trainTinyRunWithCli(root, run, env, repo);
  writeDistinctImages(images, N);
  const scored = spawnSync(process.execPath, [evalCli, 'score', '--run', run, images], {
    cwd: repo,
    env,
    encoding: 'utf8',
    maxBuffer: 64 << 20,
  });
  expect(scored.status, scored.stderr).toBe(0);
  local = scored.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  expect(local).toHaveLength(N);
}, 300_000);

afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe.skipIf(skip)(`squid-eval score --queue on a real Redis${skip ? ` (skipped: ${skip})` : ''}`, () => {
  it('500 images, 2 workers, one killed -9 mid-chunk: every image scored once, bit-identical to a local score', async () => {
    const post = [
      'score',
      '--queue',
      redis.url,
      '--run',
      run,
      '--chunk-size',
      '10',
      '--batch-size',
      '5',
      '--json',
      images,
    ];
    const posted = await cli(post);
    expect(posted.code, posted.err.join('\n')).toBe(0);
    const { queue, chunks } = JSON.parse(posted.out[0]);
    expect(chunks).toBe(50);
    // Posting the same run and inputs again lands in the same queue and adds nothing.
    const again = await cli(post);
    expect(JSON.parse(again.out[0])).toMatchObject({ queue, existed: true });

    const args = workerArgs(['--exit-when-idle']);
    args[2] = redis.url;
    const a = startCli(evalCli, args, env);
    const b = startCli(evalCli, args, env);
    // Kill a as it starts its third chunk: that chunk is held by a dead worker until its lock expires.
    const killed = await new Promise<string>((resolve) => {
      a.onStderr((text) => {
        const done = text.match(/chunk-\d+: done/g)?.length ?? 0;
        const started = [...text.matchAll(/(chunk-\d+): started/g)].map((m) => m[1]);
        if (done >= 2 && started.length > done && a.exitCode === null && a.signalCode === null) {
          a.kill('SIGKILL');
          resolve(started.at(-1) as string);
        }
      });
    });
    expect((await a.done).signal).toBe('SIGKILL');
    const rb = await b.done;
    expect(rb.code, b.stderr()).toBe(0);
    // b took over the chunk a died on.
    expect(b.stderr()).toContain(`${killed}: started`);

    const collected = await cli(['collect', '--queue', redis.url, '--name', queue]);
    expect(collected.code, collected.err.join('\n')).toBe(0);
    const rows = collected.out.map((l) => JSON.parse(l));
    expect(rows).toHaveLength(N);
    expect(new Set(rows.map((r) => r.path)).size).toBe(N);
    // In input order, and the very same numbers (JSON round-trips float64 exactly).
    expect(rows).toEqual(local);
  }, 300_000);

  it('a corrupt image is one failed row, reported once and not retried; SIGTERM stops a worker cleanly', async () => {
    const dir = join(root, 'mixed');
    writeGreyPng(join(dir, 'a.png'), 48, (x) => x / 48);
    writeFileSync(join(dir, 'b.png'), 'not a png at all');
    writeGreyPng(join(dir, 'c.png'), 48, (_x, y) => y / 48);
    const args = workerArgs(['--json']);
    args[2] = redis.url;
    const w = startCli(evalCli, args, env);
    const out = join(root, 'mixed.csv');
    const r = await cli(['score', '--queue', redis.url, '--run', run, '--wait', '--out', out, dir]);
    expect(r.code, r.err.join('\n')).toBe(2);
    expect(r.err.filter((l) => l.includes('bad image'))).toEqual([
      `squid-eval: bad image ${join(dir, 'b.png')}: not an image (not PNG, JPEG or DICOM)`,
    ]);
    const { readFileSync } = await import('node:fs');
    const csv = readFileSync(out, 'utf8').trim().split('\n');
    expect(csv[0]).toBe('path,score,recon-l1,recon-l1-worst-cell,anomalous,threshold,error');
    expect(csv.slice(1).map((l) => l.split(',')[0])).toEqual(
      ['a', 'b', 'c'].map((n) => join(dir, `${n}.png`)),
    );
    expect(csv[2]).toBe(`${join(dir, 'b.png')},,,,,,"not an image (not PNG, JPEG or DICOM)"`);
    expect(Number(csv[1].split(',')[1])).toBeGreaterThan(0);
    // One chunk, started once: the bad image did not make it fail and retry.
    expect(w.stderr().match(/chunk-000000: started/g)).toHaveLength(1);
    w.kill('SIGTERM');
    const end = await w.done;
    expect(end.code, w.stderr()).toBe(0);
    expect(w.stderr()).toMatch(/SIGTERM: finishing the current chunk, then stopping/);
    // --json: the backend, the chunk started then done with its counts (no rows), the stop.
    const events = w.events();
    expect(events[0]).toMatchObject({ type: 'backend', backend: 'wasm' });
    expect(events.slice(1).map(({ seconds, ...e }) => e)).toEqual([
      {
        type: 'chunk',
        queue: expect.stringMatching(/^squid-score-/),
        id: 'chunk-000000',
        attempt: 1,
        state: 'started',
      },
      {
        type: 'chunk',
        queue: expect.any(String),
        id: 'chunk-000000',
        attempt: 1,
        state: 'done',
        done: 2,
        failed: 1,
      },
      { type: 'stopped', chunks: 1 },
    ]);
    expect(events[2].seconds).toBeGreaterThan(0);
  }, 120_000);

  it('a worker that cannot read the run folder says so and exits 1, leaving the jobs', async () => {
    const { cpSync } = await import('node:fs');
    const { JobBoard } = await import('@squid-ad/queue');
    const gone = join(root, 'run-elsewhere');
    cpSync(run, gone, { recursive: true });
    const posted = await cli([
      'score',
      '--queue',
      redis.url,
      '--run',
      gone,
      '--json',
      join(images, '000.png'),
    ]);
    const { queue } = JSON.parse(posted.out[0]);
    rmSync(gone, { recursive: true });
    const w = await cli(['worker', '--queue', redis.url, '--exit-when-idle']);
    expect(w.code).toBe(1);
    expect(w.err.at(-1)).toBe(
      `squid-eval: queue ${queue}: cannot read the run from this machine: run folder ${gone} does not exist on this machine; ` +
        'the run folder must be at the same path on every worker (a shared or mounted folder)',
    );
    const board = await JobBoard.open(redis.url, 'score', queue);
    expect((await board.progress()).jobs).toMatchObject({ waiting: 1, completed: 0 });
    await board.remove();
    await board.close();
  });

  it('an unreachable Redis is one clear line, exit 1', async () => {
    const r = await cli(['collect', '--queue', 'redis://127.0.0.1:1/0']);
    expect(r.code).toBe(1);
    expect(r.err).toEqual([
      'squid-eval: cannot reach Redis at redis://127.0.0.1:1/0 (connection refused); start one with `redis-server --port 1` (Debian: apt-get install redis-server), or point --queue / SQUID_QUEUE at yours',
    ]);
  });
});

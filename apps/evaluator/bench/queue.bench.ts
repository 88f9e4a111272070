// Scoring on the job queue vs a local score, measured in the same run: images/s with 1 and 2
// local workers (CLI processes, 1 wasm thread each) and the queue's overhead per image. Starts
// its own redis-server and trains a tiny run first. Prints JSON lines.
// Flags: --images N (default 512), --chunk-size N (default 64).
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend } from '@squid-ad/backend';
import { finished, JobBoard } from '@squid-ad/queue';
import { redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { runCli } from '../src/program.js';
import { realDeps } from '../src/real-deps.js';
import { scoreFiles } from '../src/score-files.js';
import { writeGreyPng } from '../src/testing/fakes.js';

const flag = (name: string, dflt: number) => {
  const i = process.argv.indexOf(name);
  return i === -1 ? dflt : Number(process.argv[i + 1]);
};
const N = flag('--images', 512);
const CHUNK = flag('--chunk-size', 64);
const BATCH = 16;

const skip = redisUnavailable();
if (skip) {
  console.log(JSON.stringify({ bench: 'evaluator/queue-score', skipped: skip }));
  process.exit(0);
}
const repo = fileURLToPath(new URL('../../..', import.meta.url));
const evalCli = join(repo, 'apps/evaluator/src/cli.ts');
const trainCli = join(repo, 'apps/trainer/src/cli.ts');
const env = { ...process.env, SQUID_BACKEND: 'wasm', SQUID_THREADS: '1' };
const dir = mkdtempSync(join(tmpdir(), 'squid-queue-bench-'));
const redis = await startRedisServer();
const quiet = { stdout: () => {}, stderr: () => {} };
const workers: ChildProcess[] = [];
try {
  const run = join(dir, 'run');
  writeFileSync(
    join(dir, 'small.json'),
    JSON.stringify({ run: { normImages: 2, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } } }),
  );
  const trained = spawnSync(
    process.execPath,
    [
      ...['--import', 'tsx', trainCli, '--preset', 'tiny', '--epochs', '1', '--steps-per-epoch', '1'],
      ...['--batch-size', '2', '--config', join(dir, 'small.json'), '--out', run, '--backend', 'wasm'],
    ],
    { cwd: repo, env, encoding: 'utf8' },
  );
  if (trained.status !== 0) throw new Error(`training the bench run failed: ${trained.stderr}`);
  const files = Array.from({ length: N }, (_, i) => join(dir, 'img', `${String(i).padStart(4, '0')}.png`));
  for (const [i, f] of files.entries())
    writeGreyPng(f, 48, (x, y) => ((x * (i % 13) + y * (i % 7) + i) % 64) / 64);
  writeGreyPng(join(dir, 'warm', 'w.png'), 48, (x) => x / 48);

  // Local: the score command's own loop, in this process (wasm, 1 thread), after the run is loaded.
  await initBackend({ backend: 'wasm', threads: 1 });
  const deps = realDeps(quiet);
  const loaded = await deps.loadRun(run);
  const scoreLocally = async () => {
    const t0 = performance.now();
    await scoreFiles(
      loaded,
      files.map((f) => ({ path: f, file: f })),
      { batchSize: BATCH, threshold: null },
      deps.loadImage,
      { scored: () => {}, bad: () => {} },
    );
    return performance.now() - t0;
  };
  // Measured before and after the queue runs (the mean is compared): a shared machine's load drifts.
  const localBefore = await scoreLocally();

  /** Posts `inputs` and waits until every chunk is done; returns the ms it took (the queue is removed after). */
  const scoreOnQueue = async (inputs: string[], chunkSize = CHUNK) => {
    const out: string[] = [];
    const t = performance.now();
    const code = await runCli(
      [
        'score',
        '--queue',
        redis.url,
        '--run',
        run,
        '--chunk-size',
        String(chunkSize),
        '--batch-size',
        String(BATCH),
        '--json',
        ...inputs,
      ],
      realDeps({ stdout: (l) => out.push(l), stderr: () => {} }),
    );
    if (code !== 0) throw new Error(`score --queue exited ${code}`);
    const name = JSON.parse(out[0]).queue as string;
    const board = await JobBoard.open(redis.url, 'score', name);
    try {
      while (!finished(await board.progress())) await new Promise((r) => setTimeout(r, 20));
      const ms = performance.now() - t;
      await board.remove();
      return ms;
    } finally {
      await board.close();
    }
  };

  let oneWorkerMs = 0;
  const loadedRun: boolean[] = [];
  for (const count of [1, 2]) {
    while (workers.length < count) {
      const k = workers.length;
      loadedRun.push(false);
      const w = spawn(
        process.execPath,
        ['--import', 'tsx', evalCli, 'worker', '--queue', redis.url, '--poll-seconds', '0.05'],
        { cwd: repo, env, stdio: ['ignore', 'ignore', 'pipe'] },
      );
      let text = '';
      w.stderr?.on('data', (d) => {
        text += d;
        if (text.includes(': loaded ')) loadedRun[k] = true;
      });
      workers.push(w);
    }
    // Warm-up: every worker starts, initialises its backend and loads the run (kept while the
    // run stays the same), so the timing below is scoring and queue only.
    while (!loadedRun.every(Boolean)) await scoreOnQueue(Array(8).fill(join(dir, 'warm', 'w.png')), 1);
    const ms = await scoreOnQueue(files);
    if (count === 1) oneWorkerMs = ms;
    console.log(
      JSON.stringify({
        bench: 'evaluator/queue-score',
        mode: 'queue',
        workers: count,
        threadsPerWorker: 1,
        images: N,
        chunkSize: CHUNK,
        ms: Math.round(ms),
        imagesPerSecond: +((N / ms) * 1000).toFixed(1),
      }),
    );
  }
  const localMs = (localBefore + (await scoreLocally())) / 2;
  loaded.dispose();
  console.log(
    JSON.stringify({
      bench: 'evaluator/queue-score',
      mode: 'local',
      images: N,
      ms: Math.round(localMs),
      imagesPerSecond: +((N / localMs) * 1000).toFixed(1),
    }),
  );
  console.log(
    JSON.stringify({
      bench: 'evaluator/queue-score',
      mode: 'overhead',
      images: N,
      chunkSize: CHUNK,
      // one worker vs the same scoring loop without the queue
      msPerImage: +((oneWorkerMs - localMs) / N).toFixed(3),
      percent: +(((oneWorkerMs - localMs) / localMs) * 100).toFixed(1),
    }),
  );
} finally {
  for (const w of workers) w.kill('SIGTERM');
  await Promise.all(
    workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.on('exit', r)))),
  );
  await redis.stop();
  rmSync(dir, { recursive: true, force: true });
}

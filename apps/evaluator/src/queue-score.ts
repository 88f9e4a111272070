import { resolve } from 'node:path';
import { writeFileAtomicSync } from '@squid-ad/backend';
import {
  chunk,
  chunkId,
  connectRedis,
  describeMissingQueue,
  finished,
  formatProgress,
  itemsPerSecond,
  JobBoard,
  type JobOutcome,
  listQueues,
  type QueueProgress,
  queueName,
  readMeta,
  redactUrl,
  redisState,
} from '@squid-ad/queue';
import type { CliDeps } from './deps.js';
import { expandInputs } from './expand-inputs.js';
import { type CheckpointChoice, runCheckpoint } from './run-checkpoint.js';
import type { ScoreInput, ScoreLine } from './score-files.js';

/** The kind of queue `score --queue` posts and `squid-eval worker` serves. */
export const SCORE_KIND = 'score';
/** Every kind of squid queue (`squid-train sweep` posts `train`): a Redis with none holds nothing of ours. */
const ALL_KINDS = [SCORE_KIND, 'train'];

/** What every chunk of a scoring queue shares (stored once with the queue). */
export interface ScoreQueueMeta {
  /** absolute run folder: workers must see it at this path */
  run: string;
  checkpoint: CheckpointChoice;
  /** checksum of that checkpoint when queued: a worker refuses a run that changed since */
  sha256: string;
  batchSize: number;
  threshold?: number;
  reconCell?: number;
  images: number;
  /** inputs refused before queueing (missing, unreadable paths) */
  rejected: Array<{ path: string; reason: string }>;
}

/** One job: a chunk of images, `file` absolute so any worker finds it. */
export interface ScoreChunk {
  inputs: ScoreInput[];
}

/** An image's outcome in a chunk: its score line, or why it could not be scored. */
export type ChunkRow = ScoreLine | { path: string; error: string };

export const isFailedRow = (r: ChunkRow): r is { path: string; error: string } => 'error' in r;

export interface QueueScoreOptions {
  queue: string;
  run: string;
  checkpoint?: CheckpointChoice;
  batchSize: number;
  threshold?: number;
  reconCell?: number;
  chunkSize: number;
  wait?: boolean;
  out?: string;
  json?: boolean;
  progressSeconds?: number;
}

/**
 * `squid-eval score --queue URL`: expands the inputs, posts them in chunks to the queue of this
 * run and these inputs (posting the same again adds nothing), and with `--wait` collects.
 */
export async function queueScoreCommand(
  inputs: readonly string[],
  opts: QueueScoreOptions,
  deps: CliDeps,
): Promise<number> {
  const { files, missing, unreadable } = await expandInputs(inputs);
  const rejected = [
    ...missing.map((path) => ({ path, reason: 'no such file or directory' })),
    ...unreadable.map((u) => ({ path: u.path, reason: u.reason })),
  ];
  for (const r of rejected) deps.stderr(`squid-eval score: ${r.path}: ${r.reason}`);
  if (files.length === 0) {
    deps.stderr(`squid-eval score: no image files found in ${inputs.join(', ')}`);
    return 1;
  }
  const ckpt = runCheckpoint(opts.run, opts.checkpoint);
  const meta: ScoreQueueMeta = {
    run: ckpt.runDir,
    checkpoint: ckpt.name,
    sha256: ckpt.sha256,
    batchSize: opts.batchSize,
    ...(opts.threshold !== undefined ? { threshold: opts.threshold } : {}),
    ...(opts.reconCell !== undefined ? { reconCell: opts.reconCell } : {}),
    images: files.length,
    rejected,
  };
  const scoreInputs = files.map((f) => ({ path: f, file: resolve(f) }));
  const name = queueName(SCORE_KIND, { ...meta, chunkSize: opts.chunkSize, files: scoreInputs });
  const chunks = chunk(scoreInputs, opts.chunkSize);
  const board = await JobBoard.open<ScoreQueueMeta, ScoreChunk, ChunkRow[]>(opts.queue, SCORE_KIND, name, {
    onLine: (l) => deps.stderr(`squid-eval: ${l}`),
  });
  try {
    const { existed, retried } = await board.post(
      meta,
      chunks.map((c, i) => ({ id: chunkId(i), data: { inputs: c }, size: c.length })),
    );
    const url = redactUrl(opts.queue);
    if (opts.json && !opts.wait)
      deps.stdout(
        JSON.stringify({ type: 'queued', queue: name, images: files.length, chunks: chunks.length, existed }),
      );
    deps.stderr(
      `squid-eval score: ${existed ? `already queued${retried ? ` (${retried} failed chunks retried)` : ''}` : 'queued'}: ${files.length} images in ${chunks.length} chunks on ${url} (queue ${name})`,
    );
    if (!opts.wait) {
      deps.stderr(
        `start workers with: squid-eval worker --queue ${url}\n` +
          `collect with: squid-eval collect --queue ${url} --name ${name} --out scores.csv`,
      );
      return rejected.length > 0 ? 2 : 0;
    }
    return await collectBoard(board, opts, deps);
  } finally {
    await board.close();
  }
}

export interface CollectOptions {
  queue: string;
  name?: string;
  out?: string;
  json?: boolean;
  remove?: boolean;
  progressSeconds?: number;
}

/** `squid-eval collect`: waits for a scoring queue to finish and writes one row per image, in input order. */
export async function collectCommand(opts: CollectOptions, deps: CliDeps): Promise<number> {
  const name = opts.name ?? (await onlyQueue(opts.queue));
  const board = await JobBoard.open<ScoreQueueMeta, ScoreChunk, ChunkRow[]>(opts.queue, SCORE_KIND, name, {
    onLine: (l) => deps.stderr(`squid-eval: ${l}`),
  });
  try {
    if (!(await board.meta()))
      throw new Error(
        `no scoring queue ${name} on ${redactUrl(opts.queue)}: ${describeMissingQueue(await redisState(board.redis, ALL_KINDS))}`,
      );
    const code = await collectBoard(board, opts, deps);
    if (opts.remove) await board.remove();
    return code;
  } finally {
    await board.close();
  }
}

/** The one scoring queue on `url`, or an error listing them. */
async function onlyQueue(url: string): Promise<string> {
  const redis = await connectRedis(url);
  try {
    const names = await listQueues(redis, SCORE_KIND);
    if (names.length === 1) return names[0];
    if (names.length === 0) {
      // Say what is known: a Redis restarted without persistence looks just like one never used.
      const state = await redisState(redis, ALL_KINDS);
      throw new Error(
        `no scoring queue on ${redactUrl(url)}: ${state.ours ? 'run squid-eval score --queue first; ' : ''}${describeMissingQueue(state)}`,
      );
    }
    const rows = await Promise.all(
      names.map(async (n) => {
        const m = await readMeta<ScoreQueueMeta>(redis, n);
        return `  ${n}: ${m?.meta.images ?? '?'} images, run ${m?.meta.run ?? '?'}, queued ${m?.createdAt ?? '?'}`;
      }),
    );
    throw new Error(
      `${names.length} scoring queues on ${redactUrl(url)}; choose one with --name:\n${rows.join('\n')}`,
    );
  } finally {
    redis.disconnect();
  }
}

/** Waits (printing progress) until every chunk is done or failed for good, then writes the rows. */
async function collectBoard(
  board: JobBoard<ScoreQueueMeta, ScoreChunk, ChunkRow[]>,
  opts: { out?: string; json?: boolean; progressSeconds?: number },
  deps: CliDeps,
): Promise<number> {
  const every = (opts.progressSeconds ?? 2) * 1000;
  // Each chunk's images, read now: should Redis lose the queue meanwhile, they can still be named.
  const posted = await board.jobData();
  // Results as they come: kept here, they outlive a Redis that loses the queue later.
  const kept = new Map<string, ChunkRow[]>();
  let last: { p: QueueProgress; t: number } | undefined;
  let shown = '';
  for (;;) {
    for (const [id, rows] of await board.newResults(kept)) kept.set(id, rows);
    const p = await board.progress();
    const t = performance.now();
    const rate = last ? itemsPerSecond(last.p, p, (t - last.t) / 1000) : 0;
    const line = formatProgress(p, rate);
    if (line !== shown) deps.stderr(`squid-eval: ${board.name}: ${line}`);
    shown = line;
    if (finished(p)) break;
    last = { p, t };
    await new Promise((r) => setTimeout(r, every));
  }
  const stored = await board.meta();
  const outcomes = (await board.outcomes()).map((o) =>
    o.state === 'missing' && kept.has(o.id)
      ? { ...o, state: 'completed' as const, value: kept.get(o.id) }
      : o,
  );
  const rows = rowsInOrder(outcomes, posted);
  const lost = outcomes.filter((o) => o.state === 'missing');
  const lostImages = new Set(
    lost.flatMap((o) => (o.data ?? posted.get(o.id))?.inputs.map((i) => i.path) ?? []),
  );
  let failed = 0;
  for (const r of rows) {
    if (!isFailedRow(r)) continue;
    failed++;
    if (!lostImages.has(r.path)) deps.stderr(`squid-eval: bad image ${r.path}: ${r.error}`);
  }
  for (const o of lost) {
    const inputs = posted.get(o.id)?.inputs ?? [];
    const names =
      inputs.length === 0
        ? ''
        : `: ${inputs[0].path}${inputs.length > 1 ? ` … ${inputs[inputs.length - 1].path}` : ''}`;
    deps.stderr(`squid-eval: ${o.id} (${o.size} images) lost from Redis${names}`);
  }
  if (lost.length > 0)
    deps.stderr(
      `squid-eval: ${lost.length} of ${outcomes.length} chunks (${lost.reduce((a, o) => a + o.size, 0)} images) were lost from Redis ` +
        `(restarted without persistence, or flushed): their images have failed rows; post the same images again ` +
        `(squid-eval score --queue …) and collect again, and run Redis with --appendonly yes`,
    );
  const rejected = stored?.meta.rejected ?? [];
  for (const r of rejected) deps.stderr(`squid-eval: ${r.path}: ${r.reason} (not queued)`);
  if (opts.out) {
    writeFileAtomicSync(opts.out, scoreRowsCsv(rows));
    deps.stderr(`wrote ${opts.out}: ${rows.length} rows (${rows.length - failed} scored, ${failed} failed)`);
  } else {
    for (const r of rows) deps.stdout(JSON.stringify(r));
  }
  if (opts.json && opts.out)
    deps.stdout(
      JSON.stringify({ type: 'collected', queue: board.name, rows: rows.length, failed, out: opts.out }),
    );
  return failed + rejected.length > 0 ? 2 : 0;
}

/**
 * One row per image in input order: a chunk that failed for good, or that Redis lost, gives each
 * of its images a failed row (`posted`: each chunk's images as read earlier, for a lost chunk).
 */
export function rowsInOrder(
  outcomes: readonly JobOutcome<ChunkRow[], ScoreChunk>[],
  posted: ReadonlyMap<string, ScoreChunk> = new Map(),
): ChunkRow[] {
  return outcomes.flatMap((o) =>
    o.state === 'completed' && o.value
      ? o.value
      : (o.data?.inputs ?? posted.get(o.id)?.inputs ?? [{ path: `(chunk ${o.id})`, file: '' }]).map((i) => ({
          path: i.path,
          error:
            o.state === 'failed'
              ? `its chunk ${o.id} failed: ${o.reason}`
              : o.state === 'missing'
                ? `its chunk ${o.id} was lost from Redis (restarted without persistence, or flushed)`
                : `its chunk ${o.id} was not scored`,
        })),
  );
}

const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** `scores.csv` of a queued scoring: one row per image; failed images have an empty score and the reason. */
export function scoreRowsCsv(rows: readonly ChunkRow[]): string {
  const out = ['path,score,recon-l1,recon-l1-worst-cell,anomalous,threshold,error'];
  for (const r of rows) {
    if (isFailedRow(r)) out.push([cell(r.path), '', '', '', '', '', cell(r.error)].join(','));
    else
      out.push(
        [
          cell(r.path),
          r.score,
          r.reconL1,
          r.reconL1WorstCell,
          r.anomalous === null ? '' : r.anomalous ? 1 : 0,
          r.threshold ?? '',
          '',
        ].join(','),
      );
  }
  return `${out.join('\n')}\n`;
}

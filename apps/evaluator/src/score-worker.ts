import { backendStatus, describeBackend } from '@squid-ad/backend';
import { QueueWorker } from '@squid-ad/queue';
import type { CliDeps, ScoringRun } from './deps.js';
import {
  type ChunkRow,
  isFailedRow,
  SCORE_KIND,
  type ScoreChunk,
  type ScoreQueueMeta,
} from './queue-score.js';
import { runCheckpoint } from './run-checkpoint.js';
import { scoreFiles } from './score-files.js';

export interface ScoreWorkerOptions {
  queue: string;
  backend?: string;
  /** what the oneDNN kernels compute in: auto, float32, bfloat16 (default: env SQUID_ONEDNN_PRECISION, else auto) */
  precision?: string;
  lockSeconds: number;
  pollSeconds: number;
  exitWhenIdle?: boolean;
  /** one JSON line on stdout per event: the backend, each chunk started / done / failed, the stop */
  json?: boolean;
}

/**
 * `squid-eval worker`: serves scoring queues. Loads each queue's run once (kept while the next
 * queue uses the same run), scores chunk after chunk through the same code as `score`, and
 * stores each chunk's rows (bad images as failed rows) with its job. SIGTERM: the current chunk
 * is finished, then the worker exits 0. With `json`, stdout gets a JSON line per event
 * (`backend`, `chunk` with its `state`, `stopped`); the human lines stay on stderr.
 */
export async function scoreWorkerCommand(opts: ScoreWorkerOptions, deps: CliDeps): Promise<number> {
  let loaded: { key: string; run: ScoringRun } | undefined;
  let backendShown = false;
  const log = (line: string) => deps.stderr(`squid-eval worker: ${line}`);
  const worker = await QueueWorker.start<ScoreQueueMeta, ScoreChunk, ChunkRow[]>(
    {
      url: opts.queue,
      kind: SCORE_KIND,
      lockSeconds: opts.lockSeconds,
      pollSeconds: opts.pollSeconds,
      exitWhenIdle: opts.exitWhenIdle ?? false,
    },
    {
      prepare: async (queue, meta) => {
        const key = `${meta.run}\0${meta.checkpoint}\0${meta.sha256}`;
        if (loaded?.key === key) return;
        loaded?.run.dispose();
        loaded = undefined;
        let ckpt: ReturnType<typeof runCheckpoint>;
        try {
          ckpt = runCheckpoint(meta.run, meta.checkpoint);
        } catch (err) {
          throw new Error(
            `queue ${queue}: cannot read the run from this machine: ${(err as Error).message}; ` +
              'the run folder must be at the same path on every worker (a shared or mounted folder)',
          );
        }
        if (ckpt.sha256 !== meta.sha256)
          throw new Error(
            `queue ${queue}: ${ckpt.path} changed since the images were queued (checksum ${ckpt.sha256.slice(0, 12)}…, ` +
              `queued with ${meta.sha256.slice(0, 12)}…); queue them again with squid-eval score --queue`,
          );
        const run = await deps.loadRun(meta.run, {
          checkpoint: meta.checkpoint,
          backend: opts.backend,
          precision: opts.precision,
        });
        if (run.backend && !backendShown) {
          deps.stderr(describeBackend(run.backend));
          if (opts.json) deps.stdout(JSON.stringify({ type: 'backend', ...backendStatus(run.backend) }));
        }
        backendShown = true;
        loaded = { key, run };
        log(`${queue}: loaded ${meta.run} (${meta.checkpoint})`);
      },
      process: async (job) => {
        const run = loaded?.run;
        if (!run) throw new Error('no run loaded');
        const { meta } = job;
        const rows: ChunkRow[] = new Array(job.data.inputs.length);
        await scoreFiles(
          run,
          job.data.inputs,
          {
            batchSize: meta.batchSize,
            reconCell: meta.reconCell,
            threshold: meta.threshold ?? run.threshold ?? null,
          },
          deps.loadImage,
          {
            scored: (line, _image, _recon, index) => {
              rows[index] = line;
            },
            // Recorded as a failed row, once: the chunk itself succeeds and is not retried for it.
            bad: (path, reason, index) => {
              rows[index] = { path, error: reason };
            },
          },
        );
        return rows;
      },
      summarize: (rows) => {
        const failed = rows.filter(isFailedRow).length;
        return { done: rows.length - failed, failed };
      },
      onLine: log,
      onEvent: opts.json
        ? (event) => {
            // The rows themselves are for `collect`; a chunk's line has their counts.
            if (event.state !== 'done') return deps.stdout(JSON.stringify({ type: 'chunk', ...event }));
            const { result: _rows, summary, ...done } = event;
            deps.stdout(JSON.stringify({ type: 'chunk', ...done, ...summary }));
          }
        : undefined,
    },
  );
  const off = deps.onSignal?.((signal) => {
    log(`${signal}: finishing the current chunk, then stopping`);
    worker.stop();
  });
  try {
    await worker.done;
  } finally {
    off?.();
    loaded?.run.dispose();
  }
  log(`stopped after ${worker.completed} chunks`);
  if (opts.json) deps.stdout(JSON.stringify({ type: 'stopped', chunks: worker.completed }));
  return 0;
}

import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import {
  type BackendChoice,
  backendStatus,
  describeBackend,
  initBackend,
  type PrecisionChoice,
} from '@squid-ad/backend';
import {
  connectRedis,
  finished,
  formatProgress,
  JobBoard,
  type JobOutcome,
  QueueWorker,
  queueName,
  RELEASE,
  redactUrl,
  UnrecoverableError,
} from '@squid-ad/queue';
import { parseRunConfig, RunFolderError, runPaths, type TrainResult, trainRun } from '@squid-ad/squid';
import { MODELS } from './models.js';
import type { TrainCliIo } from './program.js';
import { type SweepFlags, type SweepMeta, sweepJobs, TRAIN_KIND, type TrainJob } from './sweep.js';

/** What a finished training job stores with the job. */
export type TrainJobResult = Pick<
  TrainResult,
  'status' | 'epoch' | 'iteration' | 'bestAuc' | 'lastAuc' | 'runDir'
>;

/** A posted set of training jobs: its queue, and whether it was posted before. */
export interface PostedTrainJobs {
  board: JobBoard<SweepMeta, TrainJob, TrainJobResult>;
  /** the queue's name (`squid-train-<hash>` of the jobs) */
  name: string;
  existed: boolean;
  retried: number;
}

/**
 * Posts training jobs on the queue named after them (posting the same jobs again adds nothing
 * and retries the failed ones); `squid-train worker`s train them. The caller closes the board.
 */
export async function postTrainJobs(
  queue: string,
  outRoot: string,
  jobs: readonly TrainJob[],
  attempts: number,
  onLine: (line: string) => void,
): Promise<PostedTrainJobs> {
  const meta: SweepMeta = { outRoot: resolve(outRoot), runs: jobs.map((j) => j.name) };
  const name = queueName(TRAIN_KIND, { jobs });
  const board = await JobBoard.open<SweepMeta, TrainJob, TrainJobResult>(queue, TRAIN_KIND, name, { onLine });
  try {
    const { existed, retried } = await board.post(
      meta,
      jobs.map((j) => ({ id: j.name, data: j, size: 1 })),
      { attempts },
    );
    return { board, name, existed, retried };
  } catch (err) {
    await board.close();
    throw err;
  }
}

/** Waits until every job on `board` has finished (done, failed or lost), reporting progress on `line`. */
export async function waitForTrainJobs(
  board: PostedTrainJobs['board'],
  line: (text: string) => void,
  pollMs = 2000,
): Promise<JobOutcome<TrainJobResult, TrainJob>[]> {
  let shown = '';
  for (;;) {
    const p = await board.progress();
    const text = formatProgress(p, 0, 'runs').replace(/, 0\.0 runs\/s$/, '');
    if (text !== shown) line(text);
    shown = text;
    if (finished(p)) break;
    await new Promise((r) => setTimeout(r, pollMs));
  }
  return board.outcomes();
}

/**
 * `squid-train sweep`: posts one training job per seed × contamination to the queue of this
 * sweep (posting it again adds nothing); with `--wait`, waits and prints each run's outcome.
 * Exit 0, or 2 when some run failed.
 */
export async function sweepCommand(flags: SweepFlags & { queue: string }, io: TrainCliIo): Promise<number> {
  const jobs = sweepJobs(flags);
  const outRoot = resolve(flags.outRoot);
  const { board, name, existed, retried } = await postTrainJobs(
    flags.queue,
    outRoot,
    jobs,
    flags.attempts,
    (l) => io.stderr(`squid-train sweep: ${l}`),
  );
  try {
    const runs = jobs.map((j) => j.name);
    const url = redactUrl(flags.queue);
    if (flags.json) io.stdout(JSON.stringify({ type: 'queued', queue: name, runs, existed }));
    io.stderr(
      `squid-train sweep: ${existed ? `already queued${retried ? ` (${retried} failed runs retried)` : ''}` : 'queued'}: ${jobs.length} runs (${runs.join(', ')}) into ${outRoot} on ${url} (queue ${name})`,
    );
    if (!flags.wait) {
      io.stderr(`start workers with: squid-train worker --queue ${url}`);
      return 0;
    }
    let failed = 0;
    for (const o of await waitForTrainJobs(board, (l) => io.stderr(`squid-train sweep: ${l}`))) {
      if (o.state === 'completed' && o.value) {
        const r = o.value;
        io.stdout(
          flags.json
            ? JSON.stringify({ type: 'run', name: o.id, ...r, attempts: o.attempts })
            : `${o.id}: ${r.status} at epoch ${r.epoch} (best validation AUC ${r.bestAuc?.toFixed(4) ?? '–'}) in ${r.runDir}`,
        );
      } else if (o.state === 'missing') {
        // Redis lost the job (restarted without persistence, or flushed): it will never run.
        failed++;
        const reason = 'lost from Redis (restarted without persistence, or flushed)';
        io.stdout(
          flags.json
            ? JSON.stringify({ type: 'run', name: o.id, status: 'lost', reason })
            : `${o.id}: ${reason}; post the sweep again (its run folder resumes from its last checkpoint)`,
        );
      } else {
        failed++;
        io.stdout(
          flags.json
            ? JSON.stringify({
                type: 'run',
                name: o.id,
                status: 'failed',
                reason: o.reason,
                attempts: o.attempts,
              })
            : `${o.id}: failed after ${o.attempts} attempts: ${o.reason}`,
        );
      }
    }
    return failed > 0 ? 2 : 0;
  } finally {
    await board.close();
  }
}

export interface TrainWorkerOptions {
  queue: string;
  backend: string;
  /** what the oneDNN kernels compute in (default: env SQUID_ONEDNN_PRECISION, else float32) */
  precision?: PrecisionChoice;
  lockSeconds: number;
  pollSeconds: number;
  exitWhenIdle: boolean;
  /** a host the user checked is gone: a run's train.lock held from there is taken over */
  breakLock?: string;
  /** one JSON line on stdout per event: the backend, each run started / done / failed / released, the stop */
  json?: boolean;
}

/**
 * `squid-train worker`: trains queued runs one after another. A run folder that already has a
 * checkpoint (the job was retried after a crash) is resumed from it, never restarted; a finished
 * one is not trained again. SIGTERM: the current run writes a checkpoint and goes back to the
 * queue for another worker to continue. With `json`, stdout gets a JSON line per event (`backend`,
 * `run` with its `state`, and a done run's result as `sweep --wait --json` prints it, `stopped`).
 */
export async function trainWorkerCommand(opts: TrainWorkerOptions, io: TrainCliIo): Promise<number> {
  // Redis first: an unreachable queue is one line, before TensorFlow.js starts.
  (await connectRedis(opts.queue)).disconnect();
  const report = await initBackend({ backend: opts.backend as BackendChoice, precision: opts.precision });
  io.stderr(describeBackend(report));
  if (opts.json) io.stdout(JSON.stringify({ type: 'backend', ...backendStatus(report) }));
  const log = (line: string) => io.stderr(`squid-train worker: ${line}`);
  const worker = await QueueWorker.start<SweepMeta, TrainJob, TrainJobResult>(
    {
      url: opts.queue,
      kind: TRAIN_KIND,
      lockSeconds: opts.lockSeconds,
      pollSeconds: opts.pollSeconds,
      exitWhenIdle: opts.exitWhenIdle,
    },
    {
      process: async (job) => {
        const { out } = job.data;
        const config = parseRunConfig(job.data.config, `queue job ${job.id}`, { models: MODELS });
        const resume = existsSync(runPaths(out).checkpoint('last'));
        log(`${job.id}: ${resume ? 'resuming' : 'starting'} ${out}`);
        let result: TrainResult;
        try {
          result = await trainRun({
            runDir: out,
            config,
            models: MODELS,
            resume,
            breakLock: opts.breakLock,
            shouldStop: job.stopRequested,
            log: (l) => log(`${job.id}: ${l}`),
          });
        } catch (err) {
          // A refused run folder (another recipe in it, a trainer on another host holding it)
          // does not fix itself by retrying.
          if (err instanceof RunFolderError) throw new UnrecoverableError(err.message);
          throw err;
        }
        if (result.status === 'interrupted') return RELEASE;
        if (result.status === 'non-finite') throw new UnrecoverableError(result.message ?? 'non-finite loss');
        const { status, epoch, iteration, bestAuc, lastAuc } = result;
        return { status, epoch, iteration, bestAuc, lastAuc, runDir: out };
      },
      summarize: () => ({ done: 1, failed: 0 }),
      onLine: log,
      onEvent: opts.json
        ? (event) => {
            const { id, ...rest } = event;
            if (rest.state !== 'done') return io.stdout(JSON.stringify({ type: 'run', name: id, ...rest }));
            const { result, summary: _one, ...done } = rest;
            io.stdout(JSON.stringify({ type: 'run', name: id, ...done, ...result }));
          }
        : undefined,
    },
  );
  const off = io.onSignal?.((signal) => {
    log(`${signal}: checkpointing the current run and giving it back to the queue`);
    worker.stop();
  });
  try {
    await worker.done;
  } finally {
    off?.();
  }
  log(`stopped after ${worker.completed} runs`);
  if (opts.json) io.stdout(JSON.stringify({ type: 'stopped', runs: worker.completed }));
  return 0;
}

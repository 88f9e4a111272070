import { type Job, WaitingError, Worker } from 'bullmq';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { connectRedis, isConnectionError } from './connect.js';
import { type JobSummary, listQueues, readMeta } from './job-board.js';
import { PREFIX, summaryKey } from './keys.js';
import { redactUrl } from './queue-url.js';

/** A worker's settings (flags of `squid-eval worker` / `squid-train worker`). */
export const workerOptionsSchema = z.object({
  url: z.string().min(1),
  /** which kind of work (e.g. `score`, `train`): the registry of queues to look in */
  kind: z.string().min(1),
  /** a job whose worker stopped answering for this long is taken over by another worker */
  lockSeconds: z.number().positive().default(30),
  /** how often to look for new queues when idle */
  pollSeconds: z.number().positive().default(2),
  /** stop when no queue has work left (instead of waiting for more) */
  exitWhenIdle: z.boolean().default(false),
});
export type WorkerOptions = z.output<typeof workerOptionsSchema>;
export type WorkerOptionsInput = z.input<typeof workerOptionsSchema>;

/** Returned by a processor that gives its job back (e.g. a trainer stopped by SIGTERM after a checkpoint). */
export const RELEASE: unique symbol = Symbol('squid-queue-release');

/** A job handed to a processor. */
export interface WorkJob<M, D> {
  queue: string;
  id: string;
  data: D;
  /** the queue's meta (what every job of it shares: the run, options) */
  meta: M;
  /** 1 on the first try; more after a crash or a failure */
  attempt: number;
  /** true once the worker was asked to stop: a long job may checkpoint and return {@link RELEASE} */
  stopRequested(): boolean;
}

/**
 * A job's progress through a worker, for machine-readable output (`--json`): one event when it
 * starts, and one when it is done (with the processor's result and its item counts), failed
 * (retried while attempts are left) or released (given back to the queue).
 */
export type WorkerEvent<R = unknown> = { queue: string; id: string; attempt: number } & (
  | { state: 'started' }
  | { state: 'done'; seconds: number; result: R; summary?: JobSummary }
  | { state: 'failed'; error: string }
  | { state: 'released' }
);

/** What a worker does with jobs; see {@link QueueWorker.start}. */
export interface QueueWorkerHandlers<M, D, R> {
  /** Runs once per queue before its first job (load the run…); throwing stops the worker with that error. */
  prepare?(queue: string, meta: M): Promise<void>;
  /** Does one job; its return value is stored with the job. */
  process(job: WorkJob<M, D>): Promise<R | typeof RELEASE>;
  /** Item counts of a result, for progress (`done` good items, `failed` bad ones). */
  summarize?(result: R): JobSummary;
  /** Receives a line per event (job started, finished, failed; queue taken up, left). */
  onLine?(line: string): void;
  /** Receives each job's {@link WorkerEvent}s, as data. */
  onEvent?(event: WorkerEvent<R>): void;
}

const sleep = (ms: number, wake: { wake?: () => void }) =>
  new Promise<void>((resolve) => {
    const t = setTimeout(resolve, ms);
    wake.wake = () => {
      clearTimeout(t);
      resolve();
    };
  });

/**
 * A worker loop: finds the queues of its kind on Redis, serves one at a time until none of its
 * jobs is left waiting or running (a job held by a crashed worker is taken back once its lock
 * expires), then looks for the next. {@link QueueWorker.stop} lets the current job finish (or
 * be released), then ends the loop.
 */
export class QueueWorker {
  /** Resolves when the loop ended (stopped, or idle with `exitWhenIdle`); rejects with a `prepare` error. */
  readonly done: Promise<void>;
  /** jobs this worker finished (their results stored) */
  completed = 0;
  private stopping = false;
  private current?: Worker;
  private readonly idle: { wake?: () => void } = {};
  /** the job whose processor returned last (one at a time: concurrency 1), until its completion is stored */
  private returned?: { queue: string; id: string; attempt: number; t0: number; summary?: JobSummary };

  private constructor(
    private readonly options: WorkerOptions,
    private readonly redis: Redis,
    private readonly handlers: QueueWorkerHandlers<unknown, unknown, unknown>,
  ) {
    this.done = this.loop().finally(() => this.redis.disconnect());
  }

  /** Connects (a clear error when Redis is unreachable) and starts working. */
  static async start<M, D, R>(
    options: WorkerOptionsInput,
    handlers: QueueWorkerHandlers<M, D, R>,
  ): Promise<QueueWorker> {
    const o = workerOptionsSchema.parse(options);
    const redis = await connectRedis(o.url, { onLine: handlers.onLine });
    return new QueueWorker(o, redis, handlers as QueueWorkerHandlers<unknown, unknown, unknown>);
  }

  /** Asks the loop to stop after the current job (idempotent); await {@link done}. */
  stop(): void {
    if (this.stopping) return;
    this.stopping = true;
    this.idle.wake?.();
    void this.current?.close();
  }

  private line(text: string) {
    this.handlers.onLine?.(text);
  }

  private async loop(): Promise<void> {
    this.line(`waiting for ${this.options.kind} jobs on ${redactUrl(this.options.url)}`);
    while (!this.stopping) {
      const queue = await this.nextQueue();
      if (queue) {
        await this.serve(queue);
        continue;
      }
      if (this.options.exitWhenIdle) break;
      await sleep(this.options.pollSeconds * 1000, this.idle);
    }
  }

  /** Jobs of `queue` still to be done: waiting, delayed, or running (possibly on a dead worker). */
  private async openJobs(queue: string): Promise<number> {
    const c = await this.redis
      .multi()
      .llen(`${PREFIX}:${queue}:wait`)
      .llen(`${PREFIX}:${queue}:active`)
      .zcard(`${PREFIX}:${queue}:delayed`)
      .zcard(`${PREFIX}:${queue}:prioritized`)
      .exec();
    return (c ?? []).reduce((a, [, n]) => a + Number(n ?? 0), 0);
  }

  private async nextQueue(): Promise<string | undefined> {
    for (const q of await listQueues(this.redis, this.options.kind))
      if ((await this.openJobs(q)) > 0) return q;
    return undefined;
  }

  private async serve(queue: string): Promise<void> {
    const stored = await readMeta(this.redis, queue);
    if (!stored) return;
    await this.handlers.prepare?.(queue, stored.meta);
    if (this.stopping) return;
    this.line(`${queue}: taking jobs`);
    const lockMs = this.options.lockSeconds * 1000;
    const worker = new Worker(queue, (job: Job, token?: string) => this.run(queue, stored.meta, job, token), {
      connection: this.redis,
      prefix: PREFIX,
      concurrency: 1,
      lockDuration: lockMs,
      stalledInterval: Math.max(500, lockMs / 2),
      // A crash is a stall; each retry resumes, so allow as many as the job has attempts.
      maxStalledCount: 5,
      drainDelay: Math.max(1, Math.ceil(this.options.pollSeconds)),
      autorun: false,
    });
    // Counted here, not when the processor returns: a job whose lock lapsed (its worker's event
    // loop blocked for longer than lockSeconds) was taken back, and its completion does not count.
    worker.on('completed', (job, result) => this.completedJob(queue, job.id ?? '?', result));
    worker.on('failed', (job, err) => {
      if (!job) return;
      this.line(`${queue} ${job.id}: failed (attempt ${job.attemptsMade}): ${err.message}`);
      const id = job.id ?? '?';
      this.handlers.onEvent?.({ queue, id, attempt: job.attemptsMade, state: 'failed', error: err.message });
    });
    // A lost connection is said once, by the connection (lost…, back); not once per command.
    worker.on('error', (err) => {
      if (!isConnectionError(err) && this.redis.status === 'ready') this.line(`${queue}: ${err.message}`);
    });
    this.current = worker;
    const running = worker.run();
    try {
      while (!this.stopping && (await this.openJobs(queue)) > 0)
        await sleep(this.options.pollSeconds * 1000, this.idle);
    } finally {
      await worker.close();
      await running.catch(() => {});
      this.current = undefined;
    }
    this.line(this.stopping ? `${queue}: leaving (stop requested)` : `${queue}: no jobs left`);
  }

  private async run(queue: string, meta: unknown, job: Job, token?: string): Promise<unknown> {
    const id = job.id ?? '?';
    const attempt = (job.attemptsMade ?? 0) + 1;
    this.line(`${queue} ${id}: started (attempt ${attempt})`);
    this.handlers.onEvent?.({ queue, id, attempt, state: 'started' });
    const t0 = performance.now();
    const result = await this.handlers.process({
      queue,
      id,
      data: job.data,
      meta,
      attempt,
      stopRequested: () => this.stopping,
    });
    if (result === RELEASE) {
      // Back to the wait list without using up an attempt: another worker continues it.
      await job.moveToWait(token);
      this.line(`${queue} ${id}: released`);
      this.handlers.onEvent?.({ queue, id, attempt, state: 'released' });
      throw new WaitingError();
    }
    const summary = this.handlers.summarize?.(result);
    // Not for a job Redis lost meanwhile (restarted empty): no stray key in an emptied Redis.
    if (summary && (await this.redis.exists(`${PREFIX}:${queue}:${id}`)))
      await this.redis.hset(summaryKey(queue), id, JSON.stringify(summary));
    this.returned = { queue, id, attempt, t0, summary };
    return result;
  }

  private completedJob(queue: string, id: string, result: unknown) {
    const r = this.returned;
    if (r?.queue !== queue || r.id !== id) return; // not processed here (cannot happen at concurrency 1)
    this.returned = undefined;
    const { attempt, t0, summary } = r;
    this.completed++;
    const seconds = (performance.now() - t0) / 1000;
    this.line(
      `${queue} ${id}: done in ${seconds.toFixed(1)} s${summary ? ` (${summary.done} done, ${summary.failed} failed)` : ''}`,
    );
    this.handlers.onEvent?.({ queue, id, attempt, state: 'done', seconds, result, summary });
  }
}

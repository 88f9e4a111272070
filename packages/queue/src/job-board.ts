import { type Job, Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { type ConnectOptions, connectRedis, isConnectionError } from './connect.js';
import { metaKey, PREFIX, registryKey, summaryKey } from './keys.js';
import type { QueueProgress } from './progress.js';

/** A job to post: its id (stable: posting again adds nothing), its data and how many items it holds. */
export interface BoardJob<D> {
  id: string;
  data: D;
  size: number;
}

/** What a queue records about itself in Redis. */
export interface StoredMeta<M> {
  kind: string;
  meta: M;
  /** job ids in input order, with their item counts */
  jobs: Array<{ id: string; size: number }>;
  createdAt: string;
}

/** A job's outcome as the board sees it. */
export interface JobOutcome<R, D = unknown> {
  id: string;
  /** the job's data as posted (undefined when the job is missing) */
  data?: D;
  size: number;
  /** `missing`: the job is no longer in Redis (lost with a restart without persistence): it will never run */
  state: 'completed' | 'failed' | 'pending' | 'missing';
  /** the processor's return value (completed) */
  value?: R;
  /** why it failed, after its last attempt (failed) */
  reason?: string;
  /** attempts made, crashes and retries included */
  attempts: number;
}

/** Item counts a worker records per finished job (see `QueueWorker`'s `summarize`). */
export interface JobSummary {
  done: number;
  failed: number;
}

/** Options of {@link JobBoard.post}. */
export interface PostOptions {
  /** tries per job before it fails for good (a worker crash counts via stalled detection); default 3 */
  attempts?: number;
}

/** The names of the queues of one kind registered on this Redis. */
export async function listQueues(redis: Redis, kind: string): Promise<string[]> {
  return (await redis.smembers(registryKey(kind))).sort();
}

/** Reads a queue's stored meta, or undefined when there is no such queue. */
export async function readMeta<M>(redis: Redis, queue: string): Promise<StoredMeta<M> | undefined> {
  const text = await redis.get(metaKey(queue));
  return text ? (JSON.parse(text) as StoredMeta<M>) : undefined;
}

/**
 * The producer's and collector's view of one queue: posts jobs (idempotently), reports
 * progress, and reads results back in job order. Close it with {@link JobBoard.close}.
 */
export class JobBoard<M = unknown, D = unknown, R = unknown> {
  /** The queue's meta as last read (or posted): its job list outlives a Redis that lost it. */
  private known?: StoredMeta<M>;

  private constructor(
    readonly name: string,
    readonly kind: string,
    readonly redis: Redis,
    private readonly queue: Queue,
  ) {}

  /** Connects to Redis at `url` (a clear error when unreachable) and opens queue `name`. */
  static async open<M, D, R>(
    url: string,
    kind: string,
    name: string,
    options: ConnectOptions = {},
  ): Promise<JobBoard<M, D, R>> {
    const redis = await connectRedis(url, options);
    const queue = new Queue(name, { connection: redis, prefix: PREFIX });
    // Without a listener BullMQ prints the error object; a lost connection is said once by onLine.
    queue.on('error', (err) => {
      if (!isConnectionError(err)) options.onLine?.(`${name}: ${err.message}`);
    });
    return new JobBoard<M, D, R>(name, kind, redis, queue);
  }

  /**
   * Registers the queue with `meta` and adds `jobs`. Idempotent: jobs whose id exists already
   * (done, running or waiting) are left as they are, and the first meta stays; jobs that failed
   * for good are retried. Returns whether the queue existed before and how many were retried.
   */
  async post(
    meta: M,
    jobs: readonly BoardJob<D>[],
    options: PostOptions = {},
  ): Promise<{ existed: boolean; retried: number }> {
    const stored: StoredMeta<M> = {
      kind: this.kind,
      meta,
      jobs: jobs.map((j) => ({ id: j.id, size: j.size })),
      createdAt: new Date().toISOString(),
    };
    const created = await this.redis.set(metaKey(this.name), JSON.stringify(stored), 'NX');
    this.known = created === null ? ((await this.meta()) ?? stored) : stored;
    // Registered last: a worker that sees the queue finds its meta.
    const attempts = options.attempts ?? 3;
    for (let i = 0; i < jobs.length; i += 500) {
      await this.queue.addBulk(
        jobs.slice(i, i + 500).map((j) => ({
          name: this.kind,
          data: j.data,
          opts: {
            jobId: j.id,
            attempts,
            backoff: { type: 'exponential', delay: 1000 },
            removeOnComplete: false,
            removeOnFail: false,
          },
        })),
      );
    }
    let retried = 0;
    if (created === null) {
      // Posting the same work again is how a user asks for its failures to be tried once more.
      for (const job of await this.queue.getJobs(['failed'])) {
        await job.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true });
        await this.redis.hdel(summaryKey(this.name), job.id as string);
        retried++;
      }
    }
    await this.redis.sadd(registryKey(this.kind), this.name);
    return { existed: created === null, retried };
  }

  /** The queue's stored meta, or undefined if it was never posted (or Redis lost it). */
  meta(): Promise<StoredMeta<M> | undefined> {
    return readMeta<M>(this.redis, this.name);
  }

  /**
   * The queue's meta from Redis, or as this board last saw it when Redis has lost it (a restart
   * without persistence): what was posted is still known, so what was lost can be named.
   */
  private async jobList(): Promise<StoredMeta<M> | undefined> {
    this.known = (await this.meta()) ?? this.known;
    return this.known;
  }

  /**
   * Ids of posted jobs that are in Redis in no state at all: lost (a Redis restarted without
   * persistence, or flushed). Checked only when the state counts fall short of the job list, and
   * not while a post is still adding jobs (its meta is there but the queue not yet registered).
   */
  private async missingJobs(jobs: ReadonlyArray<{ id: string }>, counted: number): Promise<Set<string>> {
    const missing = new Set<string>();
    if (counted >= jobs.length) return missing;
    const metaThere = (await this.redis.exists(metaKey(this.name))) === 1;
    if (metaThere && !(await this.redis.sismember(registryKey(this.kind), this.name))) return missing;
    for (let i = 0; i < jobs.length; i += 500) {
      const page = jobs.slice(i, i + 500);
      const there = await Promise.all(page.map((j) => this.redis.exists(`${PREFIX}:${this.name}:${j.id}`)));
      page.forEach((j, k) => {
        if (there[k] === 0) missing.add(j.id);
      });
    }
    return missing;
  }

  /** Items and jobs done, failed, lost and remaining. */
  async progress(): Promise<QueueProgress> {
    const stored = await this.jobList();
    const jobs = stored?.jobs ?? [];
    const sizes = new Map(jobs.map((j) => [j.id, j.size]));
    const items = jobs.reduce((a, j) => a + j.size, 0);
    const counts = await this.queue.getJobCounts(
      'completed',
      'failed',
      'active',
      'wait',
      'delayed',
      'prioritized',
      'waiting-children',
    );
    const counted = Object.values(counts).reduce((a, n) => a + (n ?? 0), 0);
    const missing = await this.missingJobs(jobs, counted);
    const summaries = await this.redis.hgetall(summaryKey(this.name));
    let done = 0;
    let failed = 0;
    for (const [id, text] of Object.entries(summaries)) {
      // A worker that finished a lost job may have written its summary to the emptied Redis.
      if (!sizes.has(id) || missing.has(id)) continue;
      const s = JSON.parse(text) as JobSummary;
      done += s.done;
      failed += s.failed;
    }
    if (counts.failed > 0) {
      for (const job of await this.queue.getJobs(['failed'])) {
        if (job?.id && !(job.id in summaries)) failed += sizes.get(job.id) ?? 0;
      }
    }
    let lost = 0;
    for (const id of missing) lost += sizes.get(id) ?? 0;
    return {
      items,
      done,
      failed,
      lost,
      remaining: Math.max(0, items - done - failed - lost),
      jobs: {
        total: jobs.length,
        completed: counts.completed ?? 0,
        failed: counts.failed ?? 0,
        active: counts.active ?? 0,
        waiting:
          (counts.wait ?? 0) +
          (counts.delayed ?? 0) +
          (counts.prioritized ?? 0) +
          (counts['waiting-children'] ?? 0),
        missing: missing.size,
      },
    };
  }

  /** Each job's data as posted, by id (read once, so that a job Redis loses later can still be named). */
  async jobData(): Promise<Map<string, D>> {
    const out = new Map<string, D>();
    const jobs = (await this.jobList())?.jobs ?? [];
    for (let i = 0; i < jobs.length; i += 500) {
      const page = jobs.slice(i, i + 500);
      const texts = await Promise.all(
        page.map((j) => this.redis.hget(`${PREFIX}:${this.name}:${j.id}`, 'data')),
      );
      page.forEach((j, k) => {
        const text = texts[k];
        if (text) out.set(j.id, JSON.parse(text) as D);
      });
    }
    return out;
  }

  /**
   * Results of the jobs completed since the last call (those in `have` are skipped): a collector
   * that keeps them keeps them should Redis lose the queue later.
   */
  async newResults(have: ReadonlyMap<string, R>): Promise<Map<string, R>> {
    const out = new Map<string, R>();
    const ids = (await this.queue.getRanges(['completed'], 0, -1, true)).filter((id) => !have.has(id));
    for (let i = 0; i < ids.length; i += 200) {
      const jobs = await Promise.all(ids.slice(i, i + 200).map((id) => this.queue.getJob(id)));
      for (const job of jobs) if (job?.id && job.finishedOn) out.set(job.id, job.returnvalue as R);
    }
    return out;
  }

  /** Every job's outcome, in the order they were posted (a job Redis lost is `missing`). */
  async outcomes(): Promise<JobOutcome<R, D>[]> {
    const stored = await this.jobList();
    if (!stored) throw new Error(`queue ${this.name} does not exist on this Redis`);
    const out: JobOutcome<R, D>[] = [];
    // A page at a time: ioredis pipelines the concurrent reads.
    for (let i = 0; i < stored.jobs.length; i += 200) {
      const page = stored.jobs.slice(i, i + 200);
      const jobs = await Promise.all(page.map((j) => this.queue.getJob(j.id)));
      const states = await Promise.all(jobs.map((j) => j?.getState()));
      for (const [k, { id, size }] of page.entries())
        out.push(outcomeOf<R, D>(id, size, jobs[k] as Job | undefined, states[k]));
    }
    return out;
  }

  /** Deletes the queue, its jobs and results from Redis. */
  async remove(): Promise<void> {
    await this.queue.obliterate({ force: true });
    await this.redis.del(metaKey(this.name), summaryKey(this.name));
    await this.redis.srem(registryKey(this.kind), this.name);
  }

  /** Closes the queue and the connection. */
  async close(): Promise<void> {
    await this.queue.close();
    this.redis.disconnect();
  }
}

function outcomeOf<R, D>(
  id: string,
  size: number,
  job: Job | undefined,
  state: string | undefined,
): JobOutcome<R, D> {
  if (!job) return { id, size, state: 'missing', attempts: 0, reason: 'lost from Redis' };
  const base = { id, size, data: job.data as D, attempts: job.attemptsMade ?? 0 };
  if (state === 'failed') return { ...base, state: 'failed', reason: job.failedReason };
  if (state === 'completed') return { ...base, state: 'completed', value: job.returnvalue as R };
  return { ...base, state: 'pending' };
}

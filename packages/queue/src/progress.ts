/** Where a queue's work stands, in items (images, runs) and in jobs. */
export interface QueueProgress {
  /** items enqueued */
  items: number;
  /** items with a result (good) */
  done: number;
  /** items with a failure recorded (a bad image, or every item of a job that failed for good) */
  failed: number;
  /** items of jobs that Redis lost (restarted without persistence, or flushed): they never run */
  lost: number;
  /** items neither done, failed nor lost */
  remaining: number;
  jobs: {
    total: number;
    completed: number;
    failed: number;
    active: number;
    waiting: number;
    /** posted jobs that Redis no longer holds in any state */
    missing: number;
  };
}

/** Whether every job of the queue has its final state (completed, failed after its retries, or lost). */
export const finished = (p: QueueProgress): boolean =>
  p.jobs.completed + p.jobs.failed + p.jobs.missing >= p.jobs.total;

/** Items per second between two progress samples taken `seconds` apart (0 when unknown). */
export function itemsPerSecond(before: QueueProgress, after: QueueProgress, seconds: number): number {
  const n = after.done + after.failed - (before.done + before.failed);
  return seconds > 0 && n > 0 ? n / seconds : 0;
}

/** One progress line: `120/500 done, 2 failed, 378 remaining, 85.3 images/s` (and `, 40 lost from Redis` when so). */
export function formatProgress(p: QueueProgress, rate: number, unit = 'images'): string {
  const lost = p.lost > 0 ? `, ${p.lost} lost from Redis` : '';
  return `${p.done}/${p.items} done, ${p.failed} failed${lost}, ${p.remaining} remaining, ${rate.toFixed(1)} ${unit}/s`;
}

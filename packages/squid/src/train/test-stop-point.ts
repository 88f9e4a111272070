import { writeSync } from 'node:fs';

// Test-only: SQUID_TEST_STOP_AT=<point>@<epoch>[,…] makes the trainer stop itself (SIGSTOP) just
// before one of an epoch's writes, so that a test can fill the disk or kill -9 the process at
// exactly that moment (apps/trainer/src/disk-faults.test.ts). Unset, this costs one lookup.
const stops = new Set((process.env.SQUID_TEST_STOP_AT ?? '').split(',').filter((s) => s !== ''));

/** The writes of an epoch, in the order the trainer makes them. */
export type StopPoint = 'sample' | 'metrics' | 'best' | 'last' | 'keep' | 'log';

/** Stops the process before write `point` of epoch `epoch` when SQUID_TEST_STOP_AT names it. */
export function testStopPoint(point: StopPoint, epoch: number): void {
  const at = `${point}@${epoch}`;
  if (!stops.has(at)) return;
  // Written synchronously so the line is out before the process stops.
  writeSync(2, `test stop point ${at}\n`);
  process.kill(process.pid, 'SIGSTOP');
}

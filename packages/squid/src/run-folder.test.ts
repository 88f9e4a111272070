import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendMetrics, readMetrics, runPaths, trimMetrics } from './run-folder.js';

const dir = mkdtempSync(join(tmpdir(), 'squid-run-folder-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('metrics.jsonl', () => {
  it('keeps the next record after a line cut by a kill during an append', () => {
    const paths = runPaths(dir);
    appendMetrics(paths, { epoch: 1 });
    // A kill mid-append of epoch 2: half a line, no newline.
    appendFileSync(paths.metrics, '{"epoch": 2, "loss": {"d": 0.1');
    appendMetrics(paths, { epoch: 2 });
    appendMetrics(paths, { epoch: 3 });
    expect(readMetrics(dir).map((m) => m.epoch)).toEqual([1, 2, 3]);
  });

  it('starts an empty or fresh file without a blank line', () => {
    const other = join(dir, 'fresh');
    const paths = runPaths(other);
    mkdirSync(other);
    writeFileSync(paths.metrics, '');
    appendMetrics(paths, { epoch: 1 });
    expect(readFileSync(paths.metrics, 'utf8')).toBe('{"epoch":1}\n');
  });

  it('is cut back to a checkpoint: rows past its epoch, repeated rows and cut lines go; the rest is kept as it was', () => {
    const other = join(dir, 'trim');
    const paths = runPaths(other);
    mkdirSync(other);
    const row = (epoch: number, d: number) => `${JSON.stringify({ epoch, loss: { d } })}\n`;
    // Epoch 3's first row was recorded before a crash lost its checkpoint; 2 was recorded twice
    // by an older version; a kill cut a line.
    writeFileSync(
      paths.metrics,
      `${row(1, 0.5)}${row(2, 0.4)}${row(2, 0.41)}{"epoch": 3, "lo\n${row(3, 0.3)}`,
    );
    expect(trimMetrics(paths, 2)).toEqual([]);
    expect(readFileSync(paths.metrics, 'utf8')).toBe(`${row(1, 0.5)}${row(2, 0.4)}`);
    // Nothing to change: the file is not rewritten.
    const inode = statSync(paths.metrics).ino;
    expect(trimMetrics(paths, 2)).toEqual([]);
    expect(statSync(paths.metrics).ino).toBe(inode);
    // A checkpoint past the rows: the epochs without one are reported.
    expect(trimMetrics(paths, 4)).toEqual([3, 4]);
    // A new run (no checkpoint): no rows.
    expect(trimMetrics(paths, 0)).toEqual([]);
    expect(readFileSync(paths.metrics, 'utf8')).toBe('');
  });
});

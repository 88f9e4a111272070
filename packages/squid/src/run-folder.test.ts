import { appendFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { appendMetrics, readMetrics, runPaths } from './run-folder.js';

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
});

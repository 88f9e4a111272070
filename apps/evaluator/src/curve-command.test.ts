import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readReport } from './compare-runs.js';
import type { Curve } from './curve-command.js';
import { runCli } from './program.js';
import { captured, trainTinyRun } from './test-run.js';

const root = mkdtempSync(join(tmpdir(), 'squid-curve-'));
const runDir = join(root, 'run');
afterAll(() => rmSync(root, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  // 2 epochs of 1 iteration, every checkpoint kept: epoch-0000 (initial weights), 0001, 0002
  await trainTinyRun(runDir, { iterations: 1, normImages: 2, val: 2, epochs: 2, keepEvery: 1 });
}, 300_000);

const args = ['curve', '--run', runDir, '--test-size', '6+6', '--resamples', '50'];

describe('squid-eval curve', () => {
  it('evaluates every kept checkpoint on the test split and writes the curve', async () => {
    const c = captured();
    expect(await runCli(args, c.deps)).toBe(0);
    const curve = JSON.parse(readFileSync(join(runDir, 'curve', 'curve.json'), 'utf8')) as Curve;
    expect(curve.points.map((p) => [p.checkpoint, p.epoch, p.iteration])).toEqual([
      ['epoch-0000', 0, 0],
      ['epoch-0001', 1, 1],
      ['epoch-0002', 2, 2],
    ]);
    expect(curve.points[0].loss).toBeNull();
    expect(curve.points[2].loss?.d).toBeGreaterThan(0);
    expect(curve.points[1].counts).toEqual({ total: 12, normal: 6, anomalous: 6 });
    expect(curve.points[1].scores.discriminator.perType.map((t) => t.type).sort()).toEqual([
      'flip',
      'missing',
      'swap',
      'zero',
    ]);
    // each point is the AUC that `evaluate --checkpoint` gives for that checkpoint on its own
    const one = captured();
    const out = join(root, 'single');
    expect(
      await runCli(
        [
          'evaluate',
          '--run',
          runDir,
          '--checkpoint',
          'epoch-0001',
          '--test-size',
          '6+6',
          '--resamples',
          '50',
          '--out',
          out,
        ],
        one.deps,
      ),
    ).toBe(0);
    const single = readReport(join(out, 'report.json'));
    expect(curve.points[1].scores).toEqual(single.scores);
    expect(single.source).toMatchObject({ checkpoint: 'epoch-0001', epoch: 1, iteration: 1 });
    // the report's grid has the Figure-6 rows: a normal image and one of each anomaly type
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('One of each class');

    const csv = readFileSync(join(runDir, 'curve', 'curve.csv'), 'utf8')
      .trim()
      .split('\n');
    expect(csv).toHaveLength(4);
    expect(csv[0]).toMatch(
      /^checkpoint,epoch,iteration,loss_d,.*discriminator_auc,discriminator_lower,discriminator_upper,discriminator_auc_flip/,
    );
    expect(csv[2].split(',').slice(0, 3)).toEqual(['epoch-0001', '1', '1']);
    const svg = readFileSync(join(runDir, 'curve', 'curve.svg'), 'utf8');
    expect(svg.match(/class="series"/g)).toHaveLength(3);
    expect(svg).toContain('6 normal + 6 anomalous');
    const types = readFileSync(join(runDir, 'curve', 'curve-types.svg'), 'utf8');
    expect(types.match(/class="series"/g)).toHaveLength(4);
    expect(c.out.filter((l) => /^epoch-\d{4} \(iteration \d\): discriminator/.test(l))).toHaveLength(3);

    // run again: every point is reused from the same checkpoint bytes
    const again = captured();
    expect(await runCli(args, again.deps)).toBe(0);
    expect(again.out.filter((l) => l.endsWith('(already evaluated)'))).toHaveLength(3);
    expect(c.err.filter((l) => l.startsWith('backend '))).toHaveLength(1);
    expect(again.err.filter((l) => l.startsWith('backend '))).toHaveLength(0);
    const curve2 = JSON.parse(readFileSync(join(runDir, 'curve', 'curve.json'), 'utf8')) as Curve;
    expect(curve2).toEqual(curve);
  }, 300_000);

  it('refuses a run without kept checkpoints, and --test-size outside a generated split', async () => {
    const c = captured();
    const plain = join(root, 'plain');
    await trainTinyRun(plain, { iterations: 1, normImages: 2, val: 2 });
    expect(await runCli(['curve', '--run', plain], c.deps)).toBe(1);
    expect(c.err.join('\n')).toMatch(/no kept checkpoints .*squid-train --keep-every N/);
    const d = captured();
    expect(await runCli(['evaluate', '--run', plain, '--split', 'val', '--test-size', '4+4'], d.deps)).toBe(
      1,
    );
    expect(d.err.join('\n')).toMatch(/--test-size applies to the generated DigitAnatomy test split only/);
    const e = captured();
    expect(await runCli(['evaluate', '--run', plain, '--test-size', '4'], e.deps)).toBe(1);
    expect(e.err.join('\n')).toMatch(/must be NORMAL\+ABNORMAL/);
  }, 300_000);
});

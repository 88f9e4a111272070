// squid-eval export on a real tiny run: the bundle scores files exactly as `squid-eval score` does.
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet, encodeGreyPng, loadImage } from '@squid-ad/datasets';
import { loadBundle, readBundleDir } from '@squid-ad/squid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExportSummary } from './export-command.js';
import { runCli } from './program.js';
import { captured, trainTinyRun } from './test-run.js';

const dir = mkdtempSync(join(tmpdir(), 'squid-eval-export-'));
const runDir = join(dir, 'run');
const imageDir = join(dir, 'images');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await trainTinyRun(runDir, { iterations: 1, normImages: 2, val: 2 });
  mkdirSync(imageDir);
  digitAnatomyTestSet({ seed: 3, normal: 3, abnormal: 3, cell: 16 }).forEach((s, i) => {
    writeFileSync(join(imageDir, `${i}.png`), encodeGreyPng({ width: 48, height: 48, data: s.image }));
  });
}, 300_000);

describe('squid-eval export', () => {
  it('writes a bundle whose scores equal squid-eval score on the same files', async () => {
    const out = join(dir, 'bundle');
    const ex = captured();
    expect(await runCli(['export', '--run', runDir, '--out', out, '--json'], ex.deps)).toBe(0);
    expect(ex.err).toEqual([]);
    const summary = JSON.parse(ex.out[0]) as ExportSummary;
    expect(summary).toMatchObject({ dir: out, precision: 'float32', checkpoint: 'best' });
    expect(summary.weightsBytes).toBeLessThan(summary.checkpointBytes / 2);

    const sc = captured();
    expect(await runCli(['score', '--run', runDir, '--backend', 'wasm', imageDir], sc.deps)).toBe(0);
    const lines = sc.out.map((l) => JSON.parse(l) as { path: string; score: number; reconL1: number });
    expect(lines).toHaveLength(6);

    const bundle = await loadBundle(readBundleDir(out));
    for (const line of lines) {
      const image = await loadImage(line.path, { size: 48 });
      const x = tf.tensor4d(image, [1, 48, 48, 1]);
      const s = await bundle.score(x);
      x.dispose();
      expect(Math.abs(s.scores[0] - line.score)).toBeLessThanOrEqual(1e-6);
      expect(Math.abs(s.reconL1[0] - line.reconL1)).toBeLessThanOrEqual(1e-6);
    }
    bundle.dispose();
  });

  it('float16 halves the bundle; a line by default', async () => {
    const ex = captured();
    const out = join(dir, 'half');
    expect(await runCli(['export', '--run', runDir, '--out', out, '--precision', 'float16'], ex.deps)).toBe(
      0,
    );
    expect(ex.out).toEqual([
      expect.stringMatching(
        /: bundle\.json \+ weights-[0-9a-f]{12}\.safetensors \(\d\.\d\d MB float16; the best checkpoint, epoch 1, is \d+\.\d+ MB\)$/,
      ),
    ]);
    expect(JSON.parse(readFileSync(join(out, 'bundle.json'), 'utf8')).precision).toBe('float16');
  });

  it('a folder that is not a run: exit 1 and a message naming it', async () => {
    const ex = captured();
    const code = await runCli(['export', '--run', join(dir, 'nope'), '--out', join(dir, 'x')], ex.deps);
    expect(code).toBe(1);
    expect(ex.err).toEqual([`squid-eval: ${join(dir, 'nope')} is not a squid run folder (no config.json)`]);
  });
});

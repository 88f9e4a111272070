// The CLIs as a user runs them: the built dist files (not the TypeScript sources through tsx),
// started from a folder outside the repository. They must find the optional oneDNN kernels
// whenever the addon is built here (apps → optional @squid-ad/backend-onednn), and say so.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { baselineModels } from '@squid-ad/baselines';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blankRgb, encodePng } from './png-image.js';

const root = fileURLToPath(new URL('../../..', import.meta.url));
const squidTrain = join(root, 'apps/trainer/dist/cli.js');
const squidEval = join(root, 'apps/evaluator/dist/cli.js');
const addonBuilt = existsSync(join(root, 'packages/backend-onednn/build/Release/squid_onednn.node'));
// The user's environment, minus the switches that would turn the kernels off.
const env = {
  ...process.env,
  SQUID_NATIVE_KERNELS: undefined,
  SQUID_ONEDNN: undefined,
  SQUID_BACKEND: 'wasm',
};

let outside: string;
/** The test-size model, validated on 2 + 2 images (small.json, written below). */
const tiny = ['--preset', 'tiny', '--config', 'small.json'];

/** Runs a CLI whose reader goes away: stdout is closed after `keepBytes` bytes arrived. */
function withClosedStdout(args: string[], keepBytes: number) {
  return new Promise<{ code: number | null; stderr: string }>((resolve) => {
    const child = spawn(process.execPath, args, { cwd: outside, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let seen = 0;
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const close = () => child.stdout.destroy();
    if (keepBytes === 0) close();
    else
      child.stdout.on('data', (d: Buffer) => {
        seen += d.length;
        if (seen >= keepBytes) close();
      });
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

// The dist files are built by the global setup (scripts/test/build-packages.ts).
beforeAll(() => {
  outside = mkdtempSync(join(tmpdir(), 'squid-built-cli-'));
  // Validation on 2 + 2 images instead of the default 100 + 100 (and 2 images for μ, σ, not 200):
  // what these tests check does not depend on it, and it was most of each training run's time.
  writeFileSync(
    join(outside, 'small.json'),
    JSON.stringify({ run: { normImages: 2, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } } }),
  );
});

afterAll(() => {
  if (outside) rmSync(outside, { recursive: true, force: true });
});

describe('built CLIs, run from outside the repository', () => {
  it('squid-train --json reports the backend first and uses the oneDNN kernels when built', () => {
    const res = spawnSync(
      process.execPath,
      [squidTrain, ...tiny, '--epochs', '1', '--steps-per-epoch', '2', '--out', 'run', '--json'],
      { cwd: outside, env, encoding: 'utf8' },
    );
    expect(res.status, res.stderr).toBe(0);
    const lines = res.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines[0]).toMatchObject({
      type: 'backend',
      backend: 'wasm',
      nativeKernels: { enabled: addonBuilt },
    });
    expect(lines.at(-1)).toMatchObject({ type: 'result', status: 'completed', iteration: 2 });
    expect(res.stderr.split('\n')[0]).toMatch(
      addonBuilt
        ? /^backend wasm, \d+ threads?, oneDNN kernels on/
        : /oneDNN kernels off \(.+\); for the faster path: /,
    );
  }, 600_000);

  it('squid-eval score says the same on its first line and scores the image', () => {
    writeFileSync(join(outside, 'grey.png'), encodePng(blankRgb(64, 64, [90, 90, 90])));
    const res = spawnSync(process.execPath, [squidEval, 'score', '--run', 'run', 'grey.png'], {
      cwd: outside,
      env,
      encoding: 'utf8',
    });
    expect(res.status, res.stderr).toBe(0);
    expect(res.stderr.split('\n')[0]).toMatch(
      addonBuilt ? /^backend wasm, \d+ threads?, oneDNN kernels on/ : /oneDNN kernels off/,
    );
    const line = JSON.parse(res.stdout.trim());
    expect(line.path).toBe('grey.png');
    expect(line.score).toBeGreaterThanOrEqual(0);
    expect(line.score).toBeLessThanOrEqual(1);
  }, 600_000);

  it('a closed stdout does not stop squid-train: the run completes, exit 0 (`| head`)', async () => {
    const args = [...tiny, '--epochs', '2', '--steps-per-epoch', '1'];
    const r = await withClosedStdout([squidTrain, ...args, '--out', 'piped'], 0);
    expect(r.code, r.stderr).toBe(0);
    const epochs = readFileSync(join(outside, 'piped', 'metrics.jsonl'), 'utf8')
      .trim()
      .split('\n');
    expect(epochs.map((l) => JSON.parse(l).epoch)).toEqual([1, 2]);
    expect(existsSync(join(outside, 'piped', 'checkpoints', 'last.safetensors'))).toBe(true);
  }, 600_000);

  it('squid-eval score stops quietly with exit 0 when its reader goes away (`| head -1`)', async () => {
    for (let i = 0; i < 40; i++)
      writeFileSync(join(outside, `grey${i}.png`), encodePng(blankRgb(64, 64, [i, i, i])));
    const images = Array.from({ length: 40 }, (_, i) => `grey${i}.png`);
    const r = await withClosedStdout([squidEval, 'score', '--run', 'run', '--batch-size', '1', ...images], 1);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/EPIPE|at .*\.js/);
  }, 600_000);

  // One test per baseline, the same checks for each: what a user of any model runs after training.
  it.each(baselineModels.map((m) => [m.name, m] as const))(
    'squid-train --model %s, then squid-eval evaluate, score and export on its run',
    (name, plugin) => {
      const run = (cli: string, args: string[]) =>
        spawnSync(process.execPath, [cli, ...args], { cwd: outside, env, encoding: 'utf8' });
      const dir = `${name}-run`;
      const trained = run(squidTrain, [
        ...['--model', name, ...tiny, '--epochs', '1', '--steps-per-epoch', '2', '--out', dir],
      ]);
      expect(trained.status, trained.stderr).toBe(0);
      expect(JSON.parse(readFileSync(join(outside, dir, 'config.json'), 'utf8')).model).toBe(name);
      // f-AnoGAN plans its two stages from the run's length, so a run of it cannot be lengthened.
      const fixed = plugin.fixedLength?.(plugin.presetConfig('tiny'));
      expect(Boolean(fixed)).toBe(name === 'f-anogan');
      if (fixed) {
        const longer = run(squidTrain, ['--out', dir, '--resume', '--epochs', '2']);
        expect(longer.status, longer.stderr).toBe(1);
        expect(longer.stderr).toContain(
          `cannot resume ${dir} for 2 epochs: it was started for 1, and f-anogan cannot change a run's length (${fixed}); resume it with --epochs 1, or train a new run with --epochs 2`,
        );
      }

      const evaluate = ['evaluate', '--run', dir, '--test-size', '4+4', '--threshold-from', 'oracle'];
      const ev = run(squidEval, [...evaluate, '--resamples', '20']);
      expect(ev.status, ev.stderr).toBe(0);
      expect(ev.stdout).toMatch(new RegExp(`^AUC by score: ${plugin.scoreName} \\d+\\.\\d · recon-l1 `, 'm'));
      const report = JSON.parse(readFileSync(join(outside, dir, 'eval', 'report.json'), 'utf8'));
      expect(report.source).toMatchObject({ model: name, score: plugin.scoreName });
      expect(Object.keys(report.scores)).toEqual([plugin.scoreName, 'recon-l1', 'recon-l1-worst-cell']);
      expect(report.scores[plugin.scoreName].auc).toBe(report.metrics.auc);
      const html = readFileSync(join(outside, dir, 'eval', 'report.html'), 'utf8');
      const escaped = plugin.title.replaceAll('&', '&amp;').replaceAll("'", '&#39;');
      expect(html).toContain(`<title>Evaluation report: ${escaped}</title>`);

      writeFileSync(join(outside, 'grey.png'), encodePng(blankRgb(64, 64, [90, 90, 90])));
      const sc = run(squidEval, ['score', '--run', dir, 'grey.png']);
      expect(sc.status, sc.stderr).toBe(0);
      const line = JSON.parse(sc.stdout.trim());
      expect(line).toMatchObject({ path: 'grey.png', scoreName: plugin.scoreName });
      expect(Number.isFinite(line.score)).toBe(true);

      const ex = run(squidEval, ['export', '--run', dir, '--out', `${name}-bundle`, '--json']);
      expect(ex.status, ex.stderr).toBe(0);
      expect(JSON.parse(ex.stdout)).toMatchObject({ model: name, precision: 'float32', checkpoint: 'best' });
      const manifest = JSON.parse(readFileSync(join(outside, `${name}-bundle`, 'bundle.json'), 'utf8'));
      expect(manifest.model).toBe(name);
      expect(existsSync(join(outside, `${name}-bundle`, manifest.weights.file))).toBe(true);
    },
    600_000,
  );
});

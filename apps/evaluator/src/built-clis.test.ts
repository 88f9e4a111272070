// The CLIs as a user runs them: the built dist files (not the TypeScript sources through tsx),
// started from a folder outside the repository. They must find the optional oneDNN kernels
// whenever the addon is built here (apps → optional @squid-ad/backend-onednn), and say so.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
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

beforeAll(() => {
  // turbo rebuilds only what changed (a fresh clone: every package, ~2 min on 2 cores).
  execFileSync(
    'pnpm',
    [
      'exec',
      'turbo',
      'run',
      'build',
      '--filter=@squid-ad/trainer...',
      '--filter=@squid-ad/evaluator...',
      '--output-logs=errors-only',
    ],
    { cwd: root, stdio: 'pipe' },
  );
  outside = mkdtempSync(join(tmpdir(), 'squid-built-cli-'));
}, 600_000);

afterAll(() => {
  if (outside) rmSync(outside, { recursive: true, force: true });
});

describe('built CLIs, run from outside the repository', () => {
  it('squid-train --json reports the backend first and uses the oneDNN kernels when built', () => {
    const res = spawnSync(
      process.execPath,
      [squidTrain, '--preset', 'tiny', '--epochs', '1', '--steps-per-epoch', '2', '--out', 'run', '--json'],
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
});

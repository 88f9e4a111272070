// Test support for the evaluator's tests (not exported by the package): CLI deps that capture
// output, and a real tiny run trained in seconds.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { getPreset, parseRunConfig, trainRun } from '@squid-ad/squid';
import { builtCli } from '@squid-ad/test-utils/built-cli';
import type { CliDeps } from './deps.js';
import { realDeps } from './real-deps.js';
import { writeGreyPng } from './testing/fakes.js';

/** The real CLI deps (`overrides` aside, e.g. `models`), with stdout and stderr captured as lines. */
export function captured(overrides: Partial<CliDeps> = {}): { out: string[]; err: string[]; deps: CliDeps } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    deps: realDeps({ ...overrides, stdout: (l) => out.push(l), stderr: (l) => err.push(l) }),
  };
}

/**
 * Trains the test-size model (`tiny`, 48 px DigitAnatomy structure, batch 2) for `iterations`
 * iterations per epoch (`epochs`, default 1) into `runDir`, validating on `val` normal + `val`
 * abnormal generated images, keeping every `keepEvery`-th epoch's checkpoint.
 */
export async function trainTinyRun(
  runDir: string,
  opts: { iterations: number; normImages: number; val: number; epochs?: number; keepEvery?: number },
): Promise<void> {
  const squid = getPreset('tiny');
  squid.train.epochs = opts.epochs ?? 1;
  squid.train.iterationsPerEpoch = opts.iterations;
  squid.train.batchSize = 2;
  const config = parseRunConfig(
    {
      squid,
      run: {
        normImages: opts.normImages,
        sampleEvery: 100,
        keepEvery: opts.keepEvery ?? 0,
        data: { trainLength: 4, valNormal: opts.val, valAbnormal: opts.val },
      },
    },
    'test config',
  );
  await trainRun({ runDir, config });
}

/**
 * Trains the `tiny` preset for 2 iterations into `run` with the built `squid-train` in its own
 * process (as a user would), validating on 2 + 2 images; `root` holds its config file. Throws
 * with the CLI's stderr when it fails.
 */
export function trainTinyRunWithCli(root: string, run: string, env: NodeJS.ProcessEnv, cwd: string): void {
  const config = join(root, 'small.json');
  writeFileSync(
    config,
    JSON.stringify({
      run: { normImages: 2, sampleEvery: 1000, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } },
    }),
  );
  const trained = spawnSync(
    process.execPath,
    [
      ...[builtCli('trainer'), '--preset', 'tiny', '--epochs', '1', '--steps-per-epoch', '2'],
      ...['--batch-size', '2', '--config', config, '--out', run, '--backend', 'wasm'],
    ],
    { cwd, env, encoding: 'utf8' },
  );
  if (trained.status !== 0) throw new Error(`squid-train failed (${trained.status}): ${trained.stderr}`);
}

/** `n` distinct 48 px grey PNGs (the tiny preset's size) as `dir/000.png` …, in order; their paths. */
export function writeDistinctImages(dir: string, n: number): string[] {
  return Array.from({ length: n }, (_, i) => {
    const path = join(dir, `${String(i).padStart(3, '0')}.png`);
    writeGreyPng(path, 48, (x, y) => ((x * (i % 17) + y * (i % 11) + i) % 64) / 64);
    return path;
  });
}

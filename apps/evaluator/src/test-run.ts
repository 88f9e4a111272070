// Test support for the evaluator's tests (not exported by the package): CLI deps that capture
// output, and a real tiny run trained in seconds.
import { getPreset, parseRunConfig, trainSquid } from '@squid-ad/squid';
import type { CliDeps } from './deps.js';
import { realDeps } from './real-deps.js';

/** The real CLI deps, with stdout and stderr captured as lines. */
export function captured(): { out: string[]; err: string[]; deps: CliDeps } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: realDeps({ stdout: (l) => out.push(l), stderr: (l) => err.push(l) }) };
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
  await trainSquid({ runDir, config });
}

import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';

// Kept in sync with @squid-ad/backend's BACKENDS; not imported so `compare` loads no TensorFlow.js.
const BACKENDS = ['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'];

import { addBundleCommands } from './bundle-commands.js';
import { compareRuns, formatComparison } from './compare-runs.js';
import type { CliDeps } from './deps.js';
import { checkpointOption } from './run-checkpoint.js';

/** `--precision`: what the oneDNN kernels' convolutions and matMuls compute in. */
const precisionOption = () =>
  new Option(
    '--precision <p>',
    'bfloat16: conv/matMul operands in bf16, float32 accumulation (oneDNN kernels only; scores differ slightly from float32); auto (the default): bfloat16 where the CPU has native bf16, else float32 (env SQUID_ONEDNN_PRECISION overrides the default)',
  ).choices(['auto', 'float32', 'bfloat16']);

const positiveInt = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError(`${name} must be a positive integer`);
  return n;
};
const integer = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError('must be an integer');
  return n;
};
/** `200+200`: normal and abnormal counts of a generated test split. */
const testSize = (v: string) => {
  const m = /^(\d+)\+(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new InvalidArgumentError('must be NORMAL+ABNORMAL, e.g. 200+200');
  return { normal: Number(m[1]), abnormal: Number(m[2]) };
};
/** `--images`: `one-per-type` or a positive count of normal and of anomalous images. */
const figureImages = (v: string): 'one-per-type' | number => {
  if (v === 'one-per-type') return v;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError('must be one-per-type or a positive integer');
  return n;
};
const finite = (v: string) => {
  const n = Number(v);
  if (v.trim() === '' || !Number.isFinite(n)) throw new InvalidArgumentError('must be a number');
  return n;
};

/** The `squid-eval` command tree, wired to `deps`; actions store their exit code in `exit.code`. */
export function createProgram(deps: CliDeps, exit: { code: number }): Command {
  const program = new Command('squid-eval')
    .description('Evaluate runs of SQUID or a baseline model, score new images, compare runs')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.stdout(s.replace(/\n$/, '')),
      writeErr: (s) => deps.stderr(s.replace(/\n$/, '')),
    })
    .showHelpAfterError()
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  squid-eval evaluate --run runs/digits                          # runs/digits/eval/report.html',
        '  squid-eval figure --run runs/squid --run runs/ae --out fig6.png # Figure 6: the same test images through each run',
        '  squid-eval compare runs/seed0 runs/seed1 runs/seed2',
      ].join('\n'),
    );

  program
    .command('evaluate')
    .description(
      'score a labelled split and write report.json, scores.csv, roc.svg, pr.svg, grid.png, report.html',
    )
    .requiredOption('--run <dir>', 'run directory (from squid-train)')
    .option('--data <dir>', "data directory (default: the run's own data)")
    .option('--split <name>', 'split to evaluate', 'test')
    .option(
      '--test-size <n+m>',
      'DigitAnatomy: normal+abnormal images of the generated test split (default 100+100; the same seed, so 200+200 is another draw)',
      testSize,
    )
    .addOption(checkpointOption())
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: env SQUID_BACKEND, else auto)').choices(
        BACKENDS,
      ),
    )
    .addOption(precisionOption())
    .addOption(
      new Option(
        '--threshold-from <where>',
        'val: fixed before seeing test labels; oracle: best on the test labels (paper)',
      )
        .choices(['val', 'oracle'])
        .default('val'),
    )
    .addOption(
      new Option('--threshold-method <method>', 'how the threshold is picked')
        .choices(['max-accuracy', 'max-f1', 'youden', 'sensitivity'])
        .default('max-accuracy'),
    )
    .option('--target-sensitivity <x>', 'target for --threshold-method sensitivity, in (0, 1]', finite)
    .option('--threshold <x>', 'use this fixed threshold instead (overrides --threshold-from)', finite)
    .option('--out <dir>', 'output directory (default RUN_DIR/eval)')
    .option('--batch-size <n>', 'images per model call', positiveInt('--batch-size'), 16)
    .option('--resamples <n>', 'bootstrap resamples for the 95 % CIs', positiveInt('--resamples'), 1000)
    .option('--seed <n>', 'bootstrap seed', integer, 0)
    .option('--grid <n>', 'most and least anomalous images shown in the grid', positiveInt('--grid'), 4)
    .option(
      '--recon-cell <px>',
      "cell side of the recon-l1-worst-cell score (default: the run's, 32)",
      positiveInt('--recon-cell'),
    )
    .option(
      '--skip-bad',
      'leave unreadable images out (named on stderr and in report.json, exit 2) instead of stopping at the first',
    )
    .action(async (o) => {
      if (o.thresholdMethod === 'sensitivity' && o.targetSensitivity === undefined) {
        throw new Error('--threshold-method sensitivity needs --target-sensitivity');
      }
      const { evaluateCommand } = await import('./evaluate-command.js');
      const { skipped } = await evaluateCommand({ ...o, gridCount: o.grid }, deps);
      // Finished, but some inputs were bad: exit 2.
      exit.code = skipped.length > 0 ? 2 : 0;
    });

  program
    .command('score')
    .description(
      "score new images (PNG/JPEG/DICOM files or folders); one JSON line per image with the model's score (SQUID: the discriminator score) and the reconstruction errors",
    )
    .requiredOption('--run <dir>', 'run directory (from squid-train)')
    .argument('<files...>', 'image files or folders')
    .addOption(checkpointOption())
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: env SQUID_BACKEND, else auto)').choices(
        BACKENDS,
      ),
    )
    .addOption(precisionOption())
    .option('--heatmap <dir>', 'also write <name>-recon.png and <name>-diff.png per image here')
    .option('--batch-size <n>', 'images per model call', positiveInt('--batch-size'), 16)
    .option(
      '--threshold <x>',
      "flag anomalous at score >= x (default: the run's validation threshold)",
      finite,
    )
    .option(
      '--recon-cell <px>',
      "cell side of the recon-l1-worst-cell score (default: the run's, 32)",
      positiveInt('--recon-cell'),
    )
    .option(
      '--queue [url]',
      'do not score here: post the images to a job queue on Redis (redis://HOST:PORT/DB; a bare --queue means env SQUID_QUEUE) for `squid-eval worker`s',
    )
    .option(
      '--chunk-size <n>',
      'with --queue: images per job (a million files is a few thousand jobs)',
      positiveInt('--chunk-size'),
      128,
    )
    .option(
      '--wait',
      'with --queue: wait for the workers, showing progress, then write the rows like `collect`',
    )
    .option(
      '--out <file>',
      'with --queue --wait: write scores.csv here (one row per image, input order) instead of JSON lines',
    )
    .option('--json', 'with --queue: print what was queued as one JSON line')
    .action(async (files: string[], o) => {
      if (o.queue !== undefined) {
        if (o.heatmap)
          throw new Error(
            '--heatmap is not available with --queue (workers write no images); score here for heatmaps',
          );
        if (o.out && !o.wait) throw new Error('--out needs --wait (or use squid-eval collect --out)');
        const { resolveQueueUrl } = await import('@squid-ad/queue');
        const { queueScoreCommand } = await import('./queue-score.js');
        exit.code = await queueScoreCommand(files, { ...o, queue: resolveQueueUrl(o.queue) }, deps);
        return;
      }
      for (const flag of ['wait', 'out', 'json'] as const)
        if (o[flag] !== undefined) throw new Error(`--${flag} needs --queue`);
      const { scoreCommand } = await import('./score-command.js');
      exit.code = await scoreCommand(files, o, deps);
    });

  program
    .command('worker')
    .description(
      'score queued images (from `score --queue`), on this or any machine that sees the run folder and the images at the same paths; SIGTERM finishes the current chunk, then exits',
    )
    .option('--queue <url>', 'Redis of the queue, redis://HOST:PORT/DB (default: env SQUID_QUEUE)')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: env SQUID_BACKEND, else auto)').choices(
        BACKENDS,
      ),
    )
    .addOption(precisionOption())
    .option(
      '--lock-seconds <s>',
      'a chunk whose worker stopped answering (crashed, killed) for this long goes to another worker',
      finite,
      30,
    )
    .option('--poll-seconds <s>', 'how often an idle worker looks for new queues', finite, 2)
    .option('--exit-when-idle', 'exit once no queue has work left, instead of waiting for more')
    .option(
      '--json',
      'one JSON line on stdout per event: backend, each chunk (state started / done / failed, with its image counts), stopped',
    )
    .action(async (o) => {
      const { resolveQueueUrl } = await import('@squid-ad/queue');
      const { scoreWorkerCommand } = await import('./score-worker.js');
      exit.code = await scoreWorkerCommand({ ...o, queue: resolveQueueUrl(o.queue) }, deps);
    });

  program
    .command('collect')
    .description(
      'wait for a queued scoring (`score --queue`) to finish, showing progress, and write one row per image in input order; failed images are listed with the reason (exit 2)',
    )
    .option('--queue <url>', 'Redis of the queue, redis://HOST:PORT/DB (default: env SQUID_QUEUE)')
    .option('--name <queue>', 'which scoring queue (default: the only one on that Redis)')
    .option('--out <file>', 'write scores.csv here instead of JSON lines on stdout (like `score`)')
    .option('--json', 'with --out: print a JSON summary line')
    .option('--remove', 'delete the queue and its results from Redis once written')
    .action(async (o) => {
      const { resolveQueueUrl } = await import('@squid-ad/queue');
      const { collectCommand } = await import('./queue-score.js');
      exit.code = await collectCommand({ ...o, queue: resolveQueueUrl(o.queue) }, deps);
    });

  program
    .command('curve')
    .description(
      "evaluate every checkpoint a run kept (squid-train --keep-every) on the test split: curve.json, curve.csv, curve.svg (AUC against iterations) and each checkpoint's report",
    )
    .requiredOption('--run <dir>', 'run directory (from squid-train --keep-every N)')
    .option('--data <dir>', "data directory (default: the run's own data)")
    .option('--split <name>', 'split to evaluate', 'test')
    .option(
      '--test-size <n+m>',
      'DigitAnatomy: normal+abnormal images of the generated test split (default 100+100)',
      testSize,
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: env SQUID_BACKEND, else auto)').choices(
        BACKENDS,
      ),
    )
    .addOption(precisionOption())
    .option(
      '--out <dir>',
      'output directory (default RUN_DIR/curve; a report per checkpoint in OUT/<checkpoint>/)',
    )
    .option('--batch-size <n>', 'images per model call', positiveInt('--batch-size'), 16)
    .option('--resamples <n>', 'bootstrap resamples for the 95 % CIs', positiveInt('--resamples'), 1000)
    .option('--seed <n>', 'bootstrap seed', integer, 0)
    .action(async (o) => {
      const { curveCommand } = await import('./curve-command.js');
      await curveCommand({ ...o, thresholdFrom: 'val', thresholdMethod: 'max-accuracy', gridCount: 4 }, deps);
    });

  program
    .command('figure')
    .description(
      "the paper's Figure 6 for several runs: the same test images (one normal and one of each anomaly type) reconstructed by each run's model, as FILE.png, with every image's scores per run in FILE.json",
    )
    .requiredOption(
      '--run <dir>',
      'run directory, one column each (repeat: --run A --run B …); all of one image size and data set',
      (v: string, prev: string[] = []) => [...prev, v],
    )
    .addOption(checkpointOption())
    .option(
      '--test-size <n+m>',
      'DigitAnatomy: normal+abnormal images of the generated test split the rows come from (default 100+100)',
      testSize,
    )
    .option('--data <dir>', "data directory (default: the runs' own data)")
    .option(
      '--images <which>',
      'one-per-type: the first normal image and the first of each anomaly type (data without types: the first 4 normal and 4 anomalous); N: the first N normal and N anomalous',
      figureImages,
      'one-per-type',
    )
    .requiredOption('--out <file.png>', 'the figure; its numbers go beside it as FILE.json')
    .option('--diff', "also a |input − reconstruction| heatmap after each run's reconstruction (one scale)")
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (default: env SQUID_BACKEND, else auto)').choices(
        BACKENDS,
      ),
    )
    .option('--json', 'print FILE.json on stdout as one line')
    .addHelpText(
      'after',
      '\nExample:\n  squid-eval figure --run runs/squid --run runs/ae --run runs/memae --test-size 200+200 --out fig6.png\n' +
        "  → fig6.png (rows: normal, each anomaly type; columns: input, each model's reconstruction) and fig6.json",
    )
    .action(async (o) => {
      const { figureCommand } = await import('./figure-command.js');
      await figureCommand({ ...o, runs: o.run }, deps);
    });

  program
    .command('compare')
    .description('summarise several runs (e.g. seeds) as mean ± std, from RUN_DIR/eval/report.json')
    .argument('<runs...>', 'run directories')
    .option('--json', 'print JSON instead of a table')
    .action((runs: string[], o: { json?: boolean }) => {
      const c = compareRuns(runs);
      deps.stdout(o.json ? JSON.stringify(c, null, 2) : formatComparison(c));
    });

  addBundleCommands(program, deps, exit);
  return program;
}

/** Runs `squid-eval` with `argv` (without node and script); returns the exit code, never exits. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const exit = { code: 0 };
  const program = createProgram(deps, exit);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exit.code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // help and version exit 0; usage errors were already printed by commander
      return err.exitCode === 0 ? 0 : 1;
    }
    deps.stderr(`squid-eval: ${(err as Error).message}`);
    return 1;
  }
}

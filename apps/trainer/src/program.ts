import { type BackendChoice, backendStatus, describeBackend, initBackend } from '@squid-ad/backend';
import { RunFolderError, trainRun } from '@squid-ad/squid';
import { Command, InvalidArgumentError, Option } from 'commander';
import { MODELS } from './models.js';
import { barView, jsonView, type ProgressView, plainView } from './progress.js';
import { resolveTrainConfig, type TrainFlags, trainFlagsSchema } from './resolve-config.js';
import { addStudyCommand } from './study-cli.js';
import { timeBudget } from './time-budget.js';

/** What the CLI touches outside itself (replaced in tests). */
export interface TrainCliIo {
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** The TTY stream for a progress bar, or undefined for plain lines. */
  tty?: NodeJS.WriteStream;
  /** Registers a handler for SIGINT/SIGTERM; returns a function that unregisters it. */
  onSignal?: (handler: (signal: string) => void) => () => void;
}

const int = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n)) throw new InvalidArgumentError(`${name} must be an integer, got "${v}"`);
  return n;
};
const float = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isFinite(n)) throw new InvalidArgumentError(`${name} must be a number, got "${v}"`);
  return n;
};

/** `--precision`: what the oneDNN kernels' convolutions and matMuls compute in. */
export function precisionOption(): Option {
  return new Option(
    '--precision <p>',
    'bfloat16: conv/matMul operands in bf16 with float32 accumulation (oneDNN kernels only; weights, optimizer, BatchNorm and losses stay float32, checkpoints float32); auto: bfloat16 where the CPU has native bf16, weight gradients float32 (robust when other processes share the cores) (default: env SQUID_ONEDNN_PRECISION, else float32)',
  ).choices(['auto', 'float32', 'bfloat16']);
}

const HELP_AFTER = `
A run folder (--out) holds:
  config.json              the fully resolved config (preset + --config + flags)
  checkpoints/last.safetensors, best.safetensors
                           weights, BN statistics, memory queues and pointers, Adam moments,
                           LR-schedule position, RNG state and data position (exact resume);
                           best = highest validation AUC; both carry the score normalisation μ, σ
  metrics.jsonl            one JSON line per epoch: losses, lr, validation AUC, seconds, images/s
  samples/epoch-NNNN.png   input / reconstruction / difference grids
  train.log                human-readable log

--epochs is the total length: a resumed run continues up to it. Ctrl-C (SIGINT) or SIGTERM
writes a checkpoint and exits cleanly; --resume continues from it. --max-minutes M does the same
once M minutes have passed and an epoch has finished; the progress ETA counts it. A NaN/Inf loss stops the run,
keeping the last good checkpoint. Resuming with a different config is refused unless --force.

Examples:
  squid-train --preset digitanatomy --out runs/digits --epochs 20
  squid-train --preset zhanglab --data ~/data/zhanglab --out runs/zl --backend tensorflow
  squid-train --out runs/digits --resume --epochs 40
  squid-train --config my-run.json --out runs/custom      # {"squid": {...}, "run": {...}}

On a job queue (Redis; see squid-train sweep --help, squid-train worker --help):
  squid-train sweep --queue redis://HOST:6379/0 --preset zhanglab --data /shared/zhanglab --seeds 0-4 --out-root /shared/runs
  squid-train worker --queue redis://HOST:6379/0           # on each machine; SQUID_QUEUE works too

Studies (SQUID against the baselines, ablations; see squid-train study --help):
  squid-train study models --preset digitanatomy --seeds 0-2 --iterations 2000 --out-root runs/study

Exit codes: 0 finished or interrupted cleanly, 1 error or non-finite loss.`;

/** Builds the commander program; `action` receives the validated flags. */
export function buildProgram(action: (flags: TrainFlags) => Promise<void>): Command {
  const program = new Command('squid-train')
    .description(
      'Train SQUID (CVPR 2023) anomaly detection, or a baseline it is compared with (--model), on DigitAnatomy, ZhangLab or CheXpert into a resumable run folder.',
    )
    .addOption(
      new Option(
        '--model <name>',
        `what to train: ${MODELS.map((m) => `${m.name} = ${m.title}`).join('; ')} (default squid, or the resumed run's)`,
      ).choices(MODELS.map((m) => m.name)),
    )
    .addOption(
      new Option('--preset <name>', 'official configuration (tiny = test-size model)').choices([
        'digitanatomy',
        'zhanglab',
        'chexpert',
        'tiny',
      ]),
    )
    .option('--data <dir>', 'data set root (zhanglab, chexpert); digitanatomy generates its data')
    .option('--out <dir>', 'run folder (default runs/<preset>, runs/<model>-<preset> for a baseline)')
    .option('--epochs <n>', 'total number of epochs', int('--epochs'))
    .option('--batch-size <n>', 'images per iteration', int('--batch-size'))
    .option(
      '--steps-per-epoch <n>',
      'iterations per epoch (default: the whole training set)',
      int('--steps-per-epoch'),
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .addOption(precisionOption())
    .option(
      '--seed <n>',
      "seed of data order, augmentation and masks; the initial weights are the official code's for torch.manual_seed(n)",
      int('--seed'),
    )
    .option('--config <file>', 'JSON {"squid": {...}, "run": {...}} merged over the preset')
    .option('--resume', 'continue the run in --out from checkpoints/last', false)
    .option('--force', 'resume even if the config differs from the run folder', false)
    .option(
      '--break-lock <host>',
      "take over --out's train.lock held by a trainer on HOST, once you have checked that HOST is gone (the machine down, that trainer killed): its pid cannot be checked from here",
    )
    .option(
      '--contamination <f>',
      'fraction of abnormal training images (chest: from the abnormal training images; digitanatomy: generated, the four anomaly types)',
      float('--contamination'),
    )
    .option(
      '--skip-bad',
      'skip unreadable image files (listed in train.log with the reason) instead of stopping at the first one',
      false,
    )
    .option('--validate-every <n>', 'validate every N epochs (default 1)', int('--validate-every'))
    .option('--sample-every <n>', 'write a sample grid every N epochs (default 5)', int('--sample-every'))
    .option(
      '--keep-every <n>',
      "also keep every N-th epoch's checkpoint as checkpoints/epoch-NNNN.safetensors, to score the training curve later (squid-eval evaluate --checkpoint epoch-NNNN); default 0, none",
      int('--keep-every'),
    )
    .option(
      '--max-minutes <m>',
      'time budget: after M minutes (and at least one finished epoch) write a checkpoint and stop, as Ctrl-C does (--resume continues); the ETA counts it',
      float('--max-minutes'),
    )
    .option(
      '--json',
      'machine-readable output on stdout: a backend line (backend, threads, native kernels), one JSON line per epoch and a final result line',
      false,
    )
    .addHelpText('after', HELP_AFTER)
    .showHelpAfterError()
    .action(async (opts) => {
      const parsed = trainFlagsSchema.safeParse(opts);
      if (!parsed.success) {
        // Name the flag as typed (--batch-size), not the option's property (batchSize).
        const flag = (path: PropertyKey[]) =>
          `--${path
            .map(String)
            .join('.')
            .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
        throw new Error(parsed.error.issues.map((i) => `${flag(i.path)}: ${i.message}`).join('\n'));
      }
      await action(parsed.data);
    });
  return program;
}

/** Runs `squid-train` with `argv` (without node and script); resolves to the exit code. */
export async function runTrainCli(argv: string[], io: TrainCliIo): Promise<number> {
  let code = 0;
  const program = buildProgram(async (flags) => {
    code = await train(flags, io);
  });
  const output = {
    writeOut: (s: string) => io.stdout(s.replace(/\n$/, '')),
    writeErr: (s: string) => io.stderr(s.replace(/\n$/, '')),
  };
  program.exitOverride();
  program.configureOutput(output);
  addQueueCommands(program, io, (c) => {
    code = c;
  });
  addStudyCommand(program, io, (c) => {
    code = c;
  });
  program.commands.forEach((c) => {
    c.exitOverride();
    c.configureOutput(output);
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    const e = err as { code?: string; exitCode?: number; message?: string };
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return 0;
    if (e.code?.startsWith('commander.')) return 1;
    io.stderr(`squid-train: ${e.message ?? String(err)}`);
    return 1;
  }
  return code;
}

async function train(flags: TrainFlags, io: TrainCliIo): Promise<number> {
  // The budget counts from the command's start, as the user's clock does.
  const budget = flags.maxMinutes === undefined ? undefined : timeBudget(flags.maxMinutes);
  const { config, out } = resolveTrainConfig(flags);
  const report = await initBackend({ backend: flags.backend as BackendChoice, precision: flags.precision });
  const view: ProgressView = flags.json
    ? jsonView(io.stdout, io.stderr)
    : io.tty
      ? barView(io.tty)
      : plainView(io.stdout);
  view.line(describeBackend(report));
  if (flags.json) io.stdout(JSON.stringify({ type: 'backend', ...backendStatus(report) }));
  let stopRequested: string | undefined;
  const off = io.onSignal?.((signal) => {
    if (stopRequested) return;
    stopRequested = signal;
    view.line(`${signal}: finishing the current iteration, then writing a checkpoint…`);
  });
  try {
    const result = await trainRun({
      runDir: out,
      config,
      models: MODELS,
      resume: flags.resume,
      force: flags.force,
      breakLock: flags.breakLock,
      shouldStop: () => {
        if (stopRequested === undefined && budget?.spent()) {
          stopRequested = `--max-minutes ${budget.minutes}`;
          view.line(`${budget.minutes} min passed (--max-minutes): writing a checkpoint…`);
        }
        return stopRequested !== undefined;
      },
      onProgress: (p) => view.step(budget ? budget.progress(p) : p),
      onEpoch: (m) => {
        budget?.epochDone();
        view.epoch(m);
      },
      log: (l) => view.line(l),
    });
    view.stop();
    if (flags.json) io.stdout(JSON.stringify({ type: 'result', ...result }));
    else if (result.status === 'completed') {
      io.stdout(
        `done: ${out} (best validation AUC ${result.bestAuc?.toFixed(4) ?? '–'}); evaluate with: squid-eval evaluate --run ${out}`,
      );
    } else if (result.status === 'interrupted') {
      io.stdout(`stopped at epoch ${result.epoch + 1}; continue with: squid-train --out ${out} --resume`);
    }
    if (result.status === 'non-finite') {
      io.stderr(`squid-train: ${result.message}`);
      return 1;
    }
    return 0;
  } catch (err) {
    view.stop();
    if (err instanceof RunFolderError) {
      io.stderr(`squid-train: ${err.message}`);
      return 1;
    }
    const e = err as Error;
    if (
      report.backend === 'wasm' &&
      e?.name === 'RuntimeError' &&
      /Aborted\(|out of bounds/.test(e.message)
    ) {
      // The wasm backend aborts when its 4 GiB heap is exhausted (the official presets at batch 16
      // peak at 2.0 / 2.9 GB; larger batches or images can pass it).
      io.stderr(
        `squid-train: the wasm backend ran out of memory (${e.message.split('.')[0]}); ` +
          `try a smaller --batch-size or --backend cpu / tensorflow. ` +
          `The last checkpoint in ${out} is intact; continue with --resume.`,
      );
      return 1;
    }
    throw err;
  } finally {
    off?.();
  }
}

/** Flags as typed (--out-root) in zod errors, not the property (outRoot). */
function flagErrors(issues: ReadonlyArray<{ path: PropertyKey[]; message: string }>): string {
  return issues
    .map(
      (i) =>
        `--${i.path
          .map(String)
          .join('.')
          .replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}: ${i.message}`,
    )
    .join('\n');
}

/** `squid-train sweep` and `squid-train worker`: training on a job queue (Redis). */
function addQueueCommands(program: Command, io: TrainCliIo, setCode: (code: number) => void): void {
  // Options of the training command stay before a subcommand; those after it are the subcommand's.
  program.enablePositionalOptions();
  program
    .command('sweep')
    .description(
      'post one training job per seed × contamination to a job queue on Redis; `squid-train worker`s (any machine that sees --out-root at the same path) train them into OUT_ROOT/<preset>-seed<N>[-c<f>]/',
    )
    .option('--queue <url>', 'Redis of the queue, redis://HOST:PORT/DB (default: env SQUID_QUEUE)')
    .addOption(
      new Option(
        '--model <name>',
        'what to train (default squid); runs go to OUT_ROOT/<model>-<preset>-seed<N>/',
      ).choices(MODELS.map((m) => m.name)),
    )
    .addOption(
      new Option('--preset <name>', 'official configuration (tiny = test-size model)').choices([
        'digitanatomy',
        'zhanglab',
        'chexpert',
        'tiny',
      ]),
    )
    .option('--seeds <list>', 'seeds: 0-4, 0,2,5 or 0-2,7', '0')
    .option(
      '--contamination <list>',
      'fractions of abnormal training images, e.g. 0,0.05,0.1 (chest: real ones; digitanatomy: generated)',
    )
    .requiredOption('--out-root <dir>', 'folder of the runs (shared by every worker, same path)')
    .option('--data <dir>', 'data set root (zhanglab, chexpert), at the same path on every worker')
    .option(
      '--config <file>',
      'JSON {"squid": {...}, "run": {...}} merged over the preset (read here, sent with the jobs)',
    )
    .option('--epochs <n>', 'total number of epochs', int('--epochs'))
    .option('--batch-size <n>', 'images per iteration', int('--batch-size'))
    .option(
      '--steps-per-epoch <n>',
      'iterations per epoch (default: the whole training set)',
      int('--steps-per-epoch'),
    )
    .option('--skip-bad', 'skip unreadable image files instead of stopping at the first one', false)
    .option('--validate-every <n>', 'validate every N epochs (default 1)', int('--validate-every'))
    .option('--sample-every <n>', 'write a sample grid every N epochs (default 5)', int('--sample-every'))
    .option(
      '--attempts <n>',
      'tries per run before it is reported failed (a crash resumes from the checkpoint)',
      int('--attempts'),
      3,
    )
    .option(
      '--wait',
      'wait for every run to finish, printing progress and each outcome (exit 2 if one failed)',
      false,
    )
    .option(
      '--json',
      'machine-readable output: what was queued, and with --wait one JSON line per run',
      false,
    )
    .action(async (opts) => {
      const { resolveQueueUrl } = await import('@squid-ad/queue');
      const { sweepFlagsSchema } = await import('./sweep.js');
      const parsed = sweepFlagsSchema.safeParse(opts);
      if (!parsed.success) throw new Error(flagErrors(parsed.error.issues));
      const { sweepCommand } = await import('./queue-commands.js');
      setCode(await sweepCommand({ ...parsed.data, queue: resolveQueueUrl(opts.queue) }, io));
    });
  program
    .command('worker')
    .description(
      'train queued runs (from `squid-train sweep`) one after another; a run retried after a crash resumes from its checkpoint; SIGTERM checkpoints the current run and gives it back to the queue',
    )
    .option('--queue <url>', 'Redis of the queue, redis://HOST:PORT/DB (default: env SQUID_QUEUE)')
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend')
        .choices(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .addOption(precisionOption())
    .option(
      '--lock-seconds <s>',
      'a run whose worker stopped answering (crashed, killed, or one training step blocking it) for this long goes to another worker; keep it above the longest training step',
      float('--lock-seconds'),
      120,
    )
    .option('--poll-seconds <s>', 'how often an idle worker looks for new sweeps', float('--poll-seconds'), 2)
    .option('--exit-when-idle', 'exit once no sweep has work left, instead of waiting for more', false)
    .option(
      '--break-lock <host>',
      "take over a run's train.lock held by a trainer on HOST, once you have checked that HOST is gone (then post the sweep again to retry the runs it failed)",
    )
    .option(
      '--json',
      'one JSON line on stdout per event: backend, each run (state started / done / failed / released; a done run with its result), stopped',
    )
    .action(async (opts) => {
      const { resolveQueueUrl } = await import('@squid-ad/queue');
      const { trainWorkerCommand } = await import('./queue-commands.js');
      setCode(await trainWorkerCommand({ ...opts, queue: resolveQueueUrl(opts.queue) }, io));
    });
}

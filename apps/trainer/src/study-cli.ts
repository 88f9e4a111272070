import { type Command, InvalidArgumentError, Option } from 'commander';
import type { TrainCliIo } from './program.js';

const positive = (name: string) => (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1)
    throw new InvalidArgumentError(`${name} must be a positive integer, got "${v}"`);
  return n;
};

/** `200+200`: normal and abnormal images of the generated DigitAnatomy test split. */
const testSize = (v: string) => {
  const m = /^(\d+)\+(\d+)$/.exec(v.trim());
  if (!m || Number(m[1]) < 1 || Number(m[2]) < 1)
    throw new InvalidArgumentError('must be NORMAL+ABNORMAL, e.g. 200+200');
  return { normal: Number(m[1]), abnormal: Number(m[2]) };
};

const HELP_AFTER = `
Each run (variant × seed) trains into OUT_ROOT/<variant>-seed<N>/ for exactly --iterations
iterations = epochs × iterations per epoch (default per epoch: one DigitAnatomy data epoch,
1,600 images / batch 16 = 100; CheXpert 84; capped at --iterations), at the preset's batch size,
on the same data stream for every variant of a seed (contamination: that stream with a
fraction of its items abnormal). It is then evaluated with squid-eval's
evaluator on the preset's test split (DigitAnatomy: 200 + 200 generated images) into RUN/eval/;
study.json, study.md and study.html (tables, ROC curves of all variants, and the Figure-6 grid
of squid-eval figure over each variant's first seed: figure.png, figure.json) go into OUT_ROOT,
rewritten after every run.

Run the same command again after a stop (Ctrl-C, kill -9, a reboot): finished runs are neither
trained nor evaluated again, an interrupted run resumes from its last checkpoint.

Examples:
  squid-train study models --preset digitanatomy --seeds 0-2 --iterations 2000 --out-root runs/study-models
  squid-train study ablation --preset digitanatomy --seeds 0-2 --iterations 2000 --out-root runs/study-ablation
  squid-train study contamination --preset digitanatomy --seeds 0-2 --iterations 2000 --out-root runs/study-contamination
  squid-train study robustness --preset digitanatomy --seeds 0-2 --iterations 2000 --out-root runs/study-robustness
  squid-train study models --preset tiny --seeds 0,1 --iterations 4 --models ae,squid --out-root /tmp/s
  squid-train study models … --queue redis://HOST:6379/0     # runs trained by squid-train workers

Exit codes: 0 every run has a row (or stopped cleanly), 2 some run failed, 1 error.`;

/** `squid-train study KIND`: plans, trains (here or on the queue), evaluates and tabulates a study. */
export function addStudyCommand(program: Command, io: TrainCliIo, setCode: (code: number) => void): void {
  program
    .command('study')
    .description(
      'run a study: every variant × seed at one iteration budget, trained here one after another (resumable) or on the job queue, evaluated on the test split, tabulated in OUT_ROOT/study.{json,md,html}',
    )
    .argument(
      '<kind>',
      'models (SQUID and every baseline), ablation (the official SQUID, then memory-matrix, shared-memory, softmax, no-inpainting, shortcut-residual, shortcut-off, no-teacher: one squid.ablation switch each), contamination (SQUID trained with 0-50 % abnormal images: contamination-0, -10, …, -50) or robustness (the official SQUID, then one hyper-parameter changed: slots-50/100/400 of the memory queue, official 200; Gumbel topk-1/3/10, official 5; mask-0.5/0.75/1 ratio, official 0.95)',
    )
    .addOption(
      new Option('--preset <name>', 'data and recipe of every run')
        .choices(['digitanatomy', 'zhanglab', 'chexpert', 'tiny'])
        .makeOptionMandatory(),
    )
    .option('--seeds <list>', 'seeds: 0-2, 0,2,5 or 0-2,7', '0')
    .requiredOption(
      '--iterations <n>',
      'iterations of every run (epochs × iterations per epoch)',
      positive('--iterations'),
    )
    .option(
      '--iterations-per-epoch <n>',
      'iterations per epoch (default: one data epoch of the preset, at most --iterations)',
      positive('--iterations-per-epoch'),
    )
    .requiredOption('--out-root <dir>', 'folder of the runs and the study files')
    .option('--variants <list>', 'only these variants, e.g. ae,squid')
    .option('--models <list>', 'the same as --variants (for study models)')
    .option('--data <dir>', 'data set root (zhanglab, chexpert); digitanatomy generates its data')
    .option(
      '--config <file>',
      'JSON {"run": {...}} merged over every run\'s config (e.g. smaller validation sets)',
    )
    .option('--test-size <n+m>', 'DigitAnatomy: normal+abnormal test images (default 200+200)', testSize)
    .addOption(
      new Option(
        '--checkpoint <which>',
        'the checkpoint evaluated: last (the iteration budget) or best (by validation AUC)',
      )
        .choices(['last', 'best'])
        .default('last'),
    )
    .addOption(
      new Option('--backend <name>', 'TensorFlow.js backend (training here, and evaluation)')
        .choices(['auto', 'tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'])
        .default('auto'),
    )
    .addOption(
      new Option('--precision <p>', 'oneDNN kernels: float32, bfloat16 or auto').choices([
        'auto',
        'float32',
        'bfloat16',
      ]),
    )
    .option(
      '--queue <url>',
      'train the missing runs on the job queue (redis://HOST:PORT/DB) with squid-train workers, wait for them, then evaluate here',
    )
    .option('--attempts <n>', 'tries per queued run before it is reported failed', positive('--attempts'), 3)
    .option('--json', 'one JSON line per run event on stdout, and a final study line', false)
    .addHelpText('after', HELP_AFTER)
    .action(async (kind: string, opts) => {
      const { studyFlagsSchema } = await import('./study-plan.js');
      if (opts.models && opts.variants && opts.models !== opts.variants)
        throw new Error('--models and --variants: give one of them');
      const parsed = studyFlagsSchema.safeParse({ ...opts, kind, variants: opts.variants ?? opts.models });
      if (!parsed.success)
        throw new Error(parsed.error.issues.map((i) => `--${i.path.join('.')}: ${i.message}`).join('\n'));
      const { studyCommand } = await import('./study-command.js');
      setCode(await studyCommand(parsed.data, io));
    });
}

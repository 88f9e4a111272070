import type { BackendChoice, PrecisionChoice } from '@squid-ad/backend';
// The signals entry alone: BullMQ stays out of start-up unless a queue command loads it.
import { onStopSignals } from '@squid-ad/queue/signals';
import type { SquidRun } from '@squid-ad/squid';
import type { AnyModelPlugin, CliDeps, LoadImage, LoadRun, ScoringRun } from './deps.js';
import { runSplitOpener } from './run-split.js';

/** Adapts a loaded `@squid-ad/squid` run to what the evaluator needs. */
export function toScoringRun(r: SquidRun): ScoringRun {
  const runData = r.runConfig.run.data;
  return {
    config: { imageSize: r.imageSize },
    model: r.model,
    checkpoint: r.checkpoint.name,
    trainedTo: { epoch: r.checkpoint.epoch, iteration: r.checkpoint.iteration },
    ...(r.threshold !== undefined
      ? { threshold: r.threshold, thresholdMethod: r.runConfig.run.threshold }
      : {}),
    data: {
      dataset: r.data.dataset,
      dir: runData.dir,
      seed: r.data.seed,
      val: { ...runData },
    },
    reconCell: r.reconCell,
    score: (images, options) => r.score(images, options),
    dispose: () => r.dispose(),
  };
}

/** The models of `squid-eval`: SQUID and the baselines, imported on first use. */
export const defaultModels = async (): Promise<readonly AnyModelPlugin[]> =>
  (await import('./models.js')).MODELS;

/**
 * The precision scoring asks for: the flag, else `SQUID_ONEDNN_PRECISION` (read by the kernels:
 * undefined here), else `auto`, bfloat16 on a CPU with native bf16. Scores then move by about
 * 1e-3 (a DigitAnatomy evaluation: discriminator AUC 56.1 against 56.0 %, recon-l1 the same).
 */
export function scoringPrecision(
  flag: PrecisionChoice | undefined,
  env: NodeJS.ProcessEnv = process.env,
): PrecisionChoice | undefined {
  return flag ?? (env.SQUID_ONEDNN_PRECISION ? undefined : 'auto');
}

/**
 * The CLI's real dependencies: `@squid-ad/squid` runs of any model in `models` (default SQUID and
 * the baselines), `@squid-ad/datasets` images, the console (overridable). The model and data
 * packages are imported lazily so `compare` starts without TensorFlow.js.
 */
export function realDeps(overrides: Partial<CliDeps> = {}): CliDeps {
  const models = overrides.models ?? defaultModels;
  const datasets = () => import('@squid-ad/datasets');
  const loadImage: LoadImage = async (path, options) => (await datasets()).loadImage(path, options);
  const loadRun: LoadRun = async (runDir, options) => {
    const { backendReport, initBackend } = await import('@squid-ad/backend');
    // An explicit --backend or --precision always applies; otherwise keep a backend the caller already chose.
    if (options?.backend || options?.precision || !backendReport())
      await initBackend({
        backend: options?.backend as BackendChoice,
        precision: scoringPrecision(options?.precision as PrecisionChoice | undefined),
      });
    const { loadRun: load } = await import('@squid-ad/squid');
    return {
      ...toScoringRun(await load(runDir, { checkpoint: options?.checkpoint, models: await models() })),
      backend: backendReport(),
    };
  };
  return {
    loadRun,
    models,
    loadImage,
    openSplit: async (args) => {
      const ds = await datasets();
      return runSplitOpener({
        loadImage,
        digitAnatomyDataset: ds.digitAnatomyDataset,
        zhangLabDataset: ds.zhangLabDataset,
        cheXpertDataset: ds.cheXpertDataset,
      })(args);
    },
    stdout: (line) => process.stdout.write(`${line}\n`),
    stderr: (line) => process.stderr.write(`${line}\n`),
    // A second signal while the current job finishes means: stop now.
    onSignal: (handler) => onStopSignals(handler),
    ...overrides,
  };
}

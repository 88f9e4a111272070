import type { tf } from '@squid-ad/backend';
import type { CliDeps, LoadImage, LoadRun, ScoringRun } from './deps.js';
import { runSplitOpener } from './run-split.js';

/** The part of `@squid-ad/squid`'s `SquidRun` the evaluator reads. */
interface SquidRunLike {
  config: { model: { imageSize: number }; data: { dataset: string }; train: { seed: number } };
  runConfig?: { run?: { threshold?: string; data?: Record<string, unknown> & { dir?: string | null } } };
  threshold?: number;
  score(images: tf.Tensor4D): Promise<{ scores: Float32Array; recon: Float32Array[] }>;
  dispose(): void;
}

/** Adapts a loaded SQUID run to what the evaluator needs. */
export function toScoringRun(r: SquidRunLike): ScoringRun {
  const runData = r.runConfig?.run?.data ?? {};
  return {
    config: { imageSize: r.config.model.imageSize },
    ...(r.threshold !== undefined ? { threshold: r.threshold } : {}),
    ...(r.runConfig?.run?.threshold ? { thresholdMethod: r.runConfig.run.threshold } : {}),
    data: {
      dataset: r.config.data.dataset,
      dir: runData.dir ?? null,
      seed: r.config.train.seed,
      val: runData,
    },
    score: (images) => r.score(images),
    dispose: () => r.dispose(),
  };
}

// The model and data packages are imported lazily so `compare` starts without TensorFlow.js.
const SQUID: string = '@squid-ad/squid';

/** The CLI's real dependencies: `@squid-ad/squid` runs, `@squid-ad/datasets` images, the console. */
export function realDeps(): CliDeps {
  const datasets = () => import('@squid-ad/datasets');
  const loadImage: LoadImage = async (path, options) => (await datasets()).loadImage(path, options);
  const loadRun: LoadRun = async (runDir, options) => {
    const { initBackend } = await import('@squid-ad/backend');
    await initBackend();
    const squid = (await import(SQUID)) as { loadRun?: (dir: string, o?: object) => Promise<SquidRunLike> };
    if (typeof squid.loadRun !== 'function')
      throw new Error('this @squid-ad/squid does not export loadRun()');
    return toScoringRun(await squid.loadRun(runDir, options));
  };
  return {
    loadRun,
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
  };
}

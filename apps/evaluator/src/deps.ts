import type { BackendReport, tf } from '@squid-ad/backend';
import type { AnyModelPlugin } from '@squid-ad/squid';
import type { CheckpointChoice } from './run-checkpoint.js';

/**
 * A trained run (SQUID or a baseline) as `@squid-ad/squid`'s `loadRun` returns it. The evaluator needs only
 * this much, so the CLI can be tested with a fake scorer.
 */
export interface ScoringRun {
  config: { imageSize: number };
  /** the run's model: `squid` (the default) or a baseline, and the name of its own score */
  model?: { name: string; title: string; scoreName: string };
  /**
   * For images `[B, S, S, 1]` in [0, 1]: the model's anomaly scores (SQUID: the discriminator's, 1 = anomalous), the
   * reconstructions `[S·S]` and their errors (`recon-l1`, `recon-l1-worst-cell` over cells of
   * `reconCell` px, default the run's), all from one forward.
   */
  score(
    images: tf.Tensor4D,
    options?: { reconCell?: number },
  ): Promise<{
    scores: Float32Array;
    recon: Float32Array[];
    reconL1: Float32Array;
    reconL1WorstCell: Float32Array;
  }>;
  /** the run's cell side of `recon-l1-worst-cell` */
  reconCell?: number;
  /** threshold picked on the validation split during training, if any */
  threshold?: number;
  /** which checkpoint was loaded (`best`, `last`, `epoch-N`) */
  checkpoint?: string;
  /** how far that checkpoint was trained */
  trainedTo?: { epoch: number; iteration: number };
  /** the backend it computes on (printed and recorded in report.json) */
  backend?: BackendReport;
  /** how that threshold was picked (e.g. `youden`) */
  thresholdMethod?: string;
  /** the data the run was trained on, so `evaluate` can find its test split without `--data` */
  data?: RunData;
  dispose(): void;
}

/** What a run records about its data set. */
export interface RunData {
  dataset: string;
  /** root folder of a file-based data set; null for generated ones (DigitAnatomy) */
  dir: string | null;
  seed: number;
  /** validation split settings used in training */
  val?: Record<string, unknown>;
}

/** Opens a run directory (`@squid-ad/squid` `loadRun`). */
export type LoadRun = (
  runDir: string,
  options?: { checkpoint?: CheckpointChoice; backend?: string; precision?: string },
) => Promise<ScoringRun>;

/** Reads one image file preprocessed like training: `[S, S]` grey in [0, 1] (`@squid-ad/datasets` `loadImage`). */
export type LoadImage = (path: string, options: { size: number }) => Promise<Float32Array>;

/** A labelled split to evaluate: items plus a loader of item `index` as `[S, S]` in [0, 1]. */
export interface EvalSplit {
  items: ReadonlyArray<{ path: string; label: 0 | 1; type?: string }>;
  load(index: number): Promise<Float32Array>;
}

/** Opens split `split` of the data at `dataDir` (or the run's own data when `dataDir` is undefined). */
export type OpenSplit = (args: {
  run: ScoringRun;
  runDir: string;
  dataDir?: string;
  split: string;
  size: number;
  /** Generated splits (DigitAnatomy test): how many normal and abnormal images (default 100 + 100). */
  generated?: { normal: number; abnormal: number };
}) => Promise<EvalSplit>;

export type { AnyModelPlugin };

/** Everything the CLI reaches outside itself. */
export interface CliDeps {
  loadRun: LoadRun;
  /**
   * The models whose runs and bundles the CLI reads (`loadRun`, `export`, `view`); loaded on first
   * use so commands that need no model (`compare`, `--help`) start without TensorFlow.js.
   * Default: SQUID and the baselines (`MODELS`).
   */
  models?: () => Promise<readonly AnyModelPlugin[]>;
  loadImage: LoadImage;
  openSplit: OpenSplit;
  stdout: (line: string) => void;
  stderr: (line: string) => void;
  /** Registers a handler for SIGTERM/SIGINT (workers stop cleanly); returns a function that unregisters it. */
  onSignal?: (handler: (signal: string) => void) => () => void;
}

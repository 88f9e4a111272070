// float16 vs float32 bundles of a trained DigitAnatomy run (of any model) on the DigitAnatomy test
// set: the largest score and raw-score (SQUID: logit) changes and the AUC of each. Needs a run: `--run RUN_DIR` (else env
// SQUID_BENCH_RUN); without one it prints a skip line. One JSON line per bundle precision.
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet } from '@squid-ad/datasets';
import { rocAuc } from '@squid-ad/metrics';
import { exportBundle, loadBundle, loadRun, type RunScores } from '@squid-ad/squid';
import { MODELS } from '../src/models.js';

const at = process.argv.indexOf('--run');
const runDir = at >= 0 ? process.argv[at + 1] : process.env.SQUID_BENCH_RUN;
if (!runDir) {
  console.log(JSON.stringify({ bench: 'evaluator/bundle-precision', skipped: 'no --run RUN_DIR given' }));
  process.exit(0);
}
await initBackend({ backend: (process.env.SQUID_BACKEND as 'wasm') ?? 'wasm' });
const run = await loadRun(runDir, { models: MODELS });
if (run.data.dataset !== 'digitanatomy') throw new Error(`${runDir}: not a DigitAnatomy run`);
const S = run.imageSize;
// The official test set: 100 normal, 100 abnormal, digits in S/3 cells.
const set = digitAnatomyTestSet({ seed: 0, normal: 100, abnormal: 100, cell: S / 3 });
const labels = set.map((s) => (s.label ? 1 : 0));

async function scoreAll(scorer: { score(x: tf.Tensor4D): Promise<RunScores> }): Promise<RunScores> {
  const parts: RunScores[] = [];
  for (let i = 0; i < set.length; i += 16) {
    const chunk = set.slice(i, i + 16);
    // [B, S, S, 1]
    const x = tf.tensor4d(Float32Array.from(chunk.flatMap((s) => Array.from(s.image))), [
      chunk.length,
      S,
      S,
      1,
    ]);
    parts.push(await scorer.score(x));
    x.dispose();
  }
  const cat = (k: 'scores' | 'raw' | 'reconL1') => Float32Array.from(parts.flatMap((p) => Array.from(p[k])));
  return {
    scores: cat('scores'),
    raw: cat('raw'),
    reconL1: cat('reconL1'),
    reconL1WorstCell: cat('reconL1'),
    recon: [],
  };
}

const maxAbs = (a: Float32Array, b: Float32Array) =>
  a.reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const reference = await scoreAll(run);
const aucRun = rocAuc(labels, Array.from(reference.scores));
run.dispose();
for (const precision of ['float32', 'float16'] as const) {
  const bundle = exportBundle(runDir, { precision, models: MODELS });
  const loaded = await loadBundle(bundle, { models: MODELS });
  const out = await scoreAll(loaded);
  loaded.dispose();
  console.log(
    JSON.stringify({
      bench: 'evaluator/bundle-precision',
      run: runDir,
      model: run.model.name,
      backend: tf.getBackend(),
      precision,
      weightsBytes: bundle.manifest.weights.bytes,
      sigma: bundle.manifest.score.norm.sigma,
      images: set.length,
      maxScoreDiff: maxAbs(out.scores, reference.scores),
      maxRawDiff: maxAbs(out.raw, reference.raw),
      maxReconL1Diff: maxAbs(out.reconL1, reference.reconL1),
      aucRun,
      aucBundle: rocAuc(labels, Array.from(out.scores)),
      aucChangePoints: 100 * Math.abs(rocAuc(labels, Array.from(out.scores)) - aucRun),
    }),
  );
}

// `pnpm experiment`: does squid train like the official code? Trains the official `digitanatomy`
// preset (batch 16, 100 iterations = 1,600 fresh images per epoch) for 4 epochs with seeds 0 and 1,
// validating after every epoch on a held-out DigitAnatomy test set drawn with the official cell
// recipe (200 normal, 200 abnormal: 50 per anomaly type, test digit instances), and prints per
// epoch the train losses and the test AUCs (discriminator score and reconstruction errors, overall
// and per anomaly type) next to the official code's figures, as a table and as JSON
// (runs/experiment/results.json). Run folders: runs/experiment/<schedule>-seed<N>/.
//
// Options: --seeds 0,1  --epochs 4  --iterations 100  --out runs/experiment
//          --schedule reuse|official (one generator forward per iteration, the default, or the
//          official two)  --json (JSON only on stdout)
//          --from runs/experiment/results.json[,more.json] (re-print earlier runs' table and checks,
//          no training; several files are merged by seed, and must share one schedule and precision).
//          --precision float32|bfloat16|auto (what the oneDNN kernels compute in; default float32;
//          bfloat16 runs go to <schedule>-bf16-seed<N>/)
//          --against float32/results.json (compare these runs, seed by seed, with saved runs of
//          another precision: recon MSE ratio and paired AUC differences, with issue #26's marks).
//          --resume (continue each seed's run folder from its last checkpoint, and skip finished
//          ones, instead of starting it anew: an experiment of hours survives a stop).
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import {
  backendReport,
  describeBackend,
  initBackend,
  type PrecisionChoice,
  writeFileAtomicSync,
} from '@squid-ad/backend';
import { meanStd } from '@squid-ad/metrics';
import {
  type EpochMetrics,
  getPreset,
  parseRunConfig,
  readMetrics,
  runPaths,
  trainRun,
} from '@squid-ad/squid';

/**
 * The official code (tiangexiang/SQUID, `configs/digit_best.py`), run on the same 2-core machine
 * with the same recipe: train recon MSE (epoch mean) and the discriminator-score AUC (%) on a
 * held-out official-recipe test set after 100, 200, 300, 400 iterations (issue #14).
 */
const OFFICIAL: Record<number, { recon: number[]; auc: number[] }> = {
  0: { recon: [0.1076, 0.065, 0.0563, 0.0502], auc: [55.7, 58.8, 60.7, 53.3] },
  1: { recon: [0.1128, 0.0681, 0.059, 0.0544], auc: [49.2, 54.8, 59.5, 50.7] },
};
/**
 * The official code again (its model and DigitAnatomy loader, `main.py`'s `gan_train` loop, the
 * digit_best config), trained on this machine on 2026-12-06 on the MNIST training digits our
 * generator draws from (the first 80 % of each class: no test digit is seen) and scored as its
 * `val` does (G in eval mode, D in train mode one image at a time, AUC of −D(G(x))) on exactly
 * this experiment's test set: a like-for-like reference for the AUCs (the figures above were
 * measured on another draw of the test set). `l1` is the AUC (%) of the mean |recon − x|.
 */
const OFFICIAL_SAME_TEST: Record<number, { recon: number[]; auc: number[]; l1: number[] }> = {
  0: { recon: [0.1076, 0.0655, 0.0564, 0.0473], auc: [57.4, 55.6, 54.3, 53.5], l1: [67.4, 66.2, 61.0, 60.4] },
  1: { recon: [0.1128, 0.0685, 0.0584, 0.0542], auc: [53.3, 53.5, 56.4, 50.8], l1: [64.2, 64.2, 64.9, 61.8] },
  2: { recon: [0.1226, 0.0819, 0.071, 0.0614], auc: [56.9, 52.0, 52.3, 51.2], l1: [66.5, 66.7, 61.9, 59.4] },
  3: { recon: [0.0855, 0.0537, 0.0475, 0.0419], auc: [54.0, 52.0, 50.5, 46.6], l1: [57.7, 55.1, 57.2, 57.4] },
  4: { recon: [0.1101, 0.0638, 0.0532, 0.0485], auc: [49.7, 48.2, 49.1, 54.7], l1: [60.7, 62.6, 59.9, 56.2] },
  5: { recon: [0.1128, 0.0686, 0.0566, 0.0487], auc: [61.0, 56.1, 51.3, 48.7], l1: [67.3, 59.7, 58.5, 57.0] },
};
/** Pass marks of issue #14: recon MSE at most 10 % above the official (same seed). */
const RECON_MARGIN = 1.1;
/** The `squid-eval` DigitAnatomy test seed: test digit instances, never seen in training. */
const TEST_SEED = 0;

function options() {
  try {
    return parseArgs({
      // `pnpm experiment -- --seeds 0` passes the `--` on.
      args: process.argv.slice(2).filter((a) => a !== '--'),
      options: {
        seeds: { type: 'string', default: '0,1' },
        epochs: { type: 'string', default: '4' },
        iterations: { type: 'string', default: '100' },
        out: { type: 'string', default: join('runs', 'experiment') },
        schedule: { type: 'string', default: 'reuse' },
        precision: { type: 'string', default: 'float32' },
        against: { type: 'string' },
        json: { type: 'boolean', default: false },
        from: { type: 'string' },
        resume: { type: 'boolean', default: false },
      },
    });
  } catch (err) {
    console.error(
      `experiment: ${(err as Error).message} (see the options at the top of scripts/experiment.ts)`,
    );
    process.exit(1);
  }
}
const { values } = options();
const seeds = values.seeds.split(',').map((s) => Number(s.trim()));
const epochs = Number(values.epochs);
const iterations = Number(values.iterations);
if (seeds.some((s) => !Number.isInteger(s)) || !(epochs > 0) || !(iterations > 0)) {
  console.error('experiment: --seeds takes integers (0,1), --epochs and --iterations positive integers');
  process.exit(1);
}
if (values.schedule !== 'reuse' && values.schedule !== 'official') {
  console.error(`experiment: --schedule is reuse or official, got ${values.schedule}`);
  process.exit(1);
}
if (!['float32', 'bfloat16', 'auto'].includes(values.precision)) {
  console.error(`experiment: --precision is float32, bfloat16 or auto, got ${values.precision}`);
  process.exit(1);
}
const say = (line: string) => {
  if (values.json) console.error(line);
  else console.log(line);
};

if (!values.from) await initBackend({ precision: values.precision as PrecisionChoice });
const backend = backendReport();
if (backend)
  say(
    `experiment: ${describeBackend(backend)}; ` +
      `digitanatomy, ${epochs} × ${iterations} iterations at batch 16, seeds ${seeds.join(', ')}, schedule ${values.schedule}, ${backend.precision}`,
  );

interface EpochResult {
  epoch: number;
  iteration: number;
  loss: EpochMetrics['loss'];
  /** AUC (%) per score, overall and per anomaly type, on the test set. */
  auc: Record<string, { overall: number; perType: Record<string, number> }>;
  seconds: number;
  official: { recon: number; auc: number } | null;
  /** {@link OFFICIAL_SAME_TEST} at this iteration */
  officialSameTest: OfficialSameTest | null;
}
interface OfficialSameTest {
  recon: number;
  auc: number;
  l1: number;
}

/** One epoch's row of the results: its losses, its test AUCs (%) and the official figures. */
function epochResult(seed: number, m: EpochMetrics, seconds: number): EpochResult {
  const auc = Object.fromEntries(
    Object.entries(m.val?.scores ?? {}).map(([name, s]) => [
      name,
      {
        overall: pct(s.auc),
        perType: Object.fromEntries(Object.entries(s.perType).map(([t, v]) => [t, pct(v)])),
      },
    ]),
  );
  return {
    epoch: m.epoch,
    iteration: m.iteration,
    loss: m.loss,
    auc,
    seconds,
    ...officialAt(seed, m.iteration),
  };
}

/** The official figures after `iteration` iterations (they cover 100, 200, 300, 400). */
function officialAt(seed: number, iteration: number): Pick<EpochResult, 'official' | 'officialSameTest'> {
  const k = iteration % 100 === 0 ? iteration / 100 - 1 : -1;
  const o = OFFICIAL[seed];
  const here = OFFICIAL_SAME_TEST[seed];
  return {
    official: o && k >= 0 && k < o.recon.length ? { recon: o.recon[k], auc: o.auc[k] } : null,
    officialSameTest:
      here && k >= 0 && k < here.recon.length
        ? { recon: here.recon[k], auc: here.auc[k], l1: here.l1[k] }
        : null,
  };
}

const pct = (v: number) => Math.round(v * 1000) / 10;
const results: Record<number, EpochResult[]> = {};
/** The schedule and precision of the runs in the table: the ones trained now, or the saved runs' own. */
let schedule = values.schedule;
let precision: string = backend?.precision ?? values.precision;
/** A saved results.json; files written before --precision existed computed in float32. */
interface Saved {
  schedule: string;
  precision?: string;
  results: Record<number, EpochResult[]>;
}
const readSaved = (file: string): Saved => JSON.parse(readFileSync(file, 'utf8')) as Saved;
if (values.from) {
  // Re-print an earlier experiment's table against the current official figures.
  const schedules = new Map<string, string>();
  for (const file of values.from.split(',')) {
    const saved = readSaved(file);
    schedules.set(file, `${saved.schedule}, ${saved.precision ?? 'float32'}`);
    for (const seed of seeds) {
      if (!saved.results[seed]) continue;
      results[seed] = saved.results[seed].map((r) => ({ ...r, ...officialAt(seed, r.iteration) }));
    }
  }
  // One table, one schedule and precision: a paired comparison across them would mix two experiments.
  if (new Set(schedules.values()).size > 1) {
    const list = [...schedules].map(([file, s]) => `${file}: ${s}`).join('; ');
    console.error(
      `experiment: --from mixes schedules or precisions (${list}); merge runs of one schedule and precision at a time`,
    );
    process.exit(1);
  }
  [schedule, precision] = [...schedules.values()][0].split(', ');
  const missing = seeds.filter((seed) => !results[seed]);
  if (missing.length > 0) {
    console.error(`experiment: no results for seed ${missing.join(', ')} in ${values.from}`);
    process.exit(1);
  }
}
for (const seed of values.from ? [] : seeds) {
  const runDir = join(values.out, `${values.schedule}${precision === 'bfloat16' ? '-bf16' : ''}-seed${seed}`);
  const resume = values.resume && existsSync(runPaths(runDir).checkpoint('last'));
  if (!resume) {
    rmSync(runDir, { recursive: true, force: true });
    mkdirSync(runDir, { recursive: true });
  }
  const preset = getPreset('digitanatomy');
  const config = parseRunConfig(
    {
      squid: { ...preset, train: { ...preset.train, seed, epochs, iterationsPerEpoch: iterations } },
      run: {
        validateEvery: 1,
        sampleEvery: epochs,
        normImages: 200,
        reuseGeneratorForward: values.schedule === 'reuse',
        data: {
          trainLength: iterations * preset.train.batchSize,
          valNormal: 200,
          valAbnormal: 200,
          valSeed: TEST_SEED,
        },
      },
    },
    'experiment',
  );
  const started = performance.now();
  results[seed] = [];
  const result = await trainRun({
    runDir,
    config,
    resume,
    onProgress: (p) => {
      if (!values.json && process.stderr.isTTY)
        process.stderr.write(
          `\r  seed ${seed}: epoch ${p.epoch + 1}/${p.epochs} iteration ${p.step + 1}/${p.steps} `,
        );
    },
    onEpoch: (m) => {
      const r = epochResult(seed, m, (performance.now() - started) / 1000);
      const d = r.auc.discriminator;
      say(
        `\rseed ${seed} iteration ${m.iteration}: recon ${m.loss.recon?.toFixed(4)} (official ${r.official?.recon ?? '–'}), ` +
          `D AUC ${d?.overall ?? '–'} % (official ${r.official?.auc ?? '–'} %), ${((performance.now() - started) / 60_000).toFixed(1)} min`,
      );
    },
  });
  // Every epoch from the run's metrics.jsonl, those of an earlier, resumed process included.
  let seconds = 0;
  results[seed] = (readMetrics(runDir) as unknown as EpochMetrics[]).map((m) => {
    seconds += m.seconds;
    return epochResult(seed, m, seconds);
  });
  if (result.status !== 'completed') {
    console.error(`experiment: seed ${seed} ${result.status}: ${result.message ?? ''}`);
    process.exit(1);
  }
}

// Pass marks of issue #14, where the official figures cover the iteration.
const checks: { what: string; ours: number; official: number; pass: boolean }[] = [];
const byIteration = new Map<number, { ours: number[]; official: number[] }>();
for (const seed of seeds) {
  for (const r of results[seed]) {
    if (!r.official) continue;
    const recon = r.loss.recon ?? Number.NaN;
    checks.push({
      what: `seed ${seed}, ${r.iteration} it: recon MSE ≤ ${RECON_MARGIN} × official`,
      ours: recon,
      official: r.official.recon,
      pass: recon <= RECON_MARGIN * r.official.recon,
    });
    const entry = byIteration.get(r.iteration) ?? { ours: [], official: [] };
    entry.ours.push(r.auc.discriminator?.overall ?? Number.NaN);
    entry.official.push(r.official.auc);
    byIteration.set(r.iteration, entry);
  }
}
const mean = (v: number[]) => v.reduce((s, x) => s + x, 0) / v.length;
const round1 = (v: number) => Math.round(v * 10) / 10;
for (const [iteration, e] of byIteration) {
  if (e.ours.length < 2) continue;
  const ours = round1(mean(e.ours));
  const official = round1(mean(e.official));
  checks.push({
    what: `${iteration} it: D AUC, mean of seeds ≥ official`,
    ours,
    official,
    pass: ours >= official,
  });
}
// Not a pass mark of the issue: the same comparison against the official code trained here and
// scored on this test set, over every seed that has its figures: means, and the mean of the paired
// (same seed, same iteration) differences with its standard error over seeds.
interface Paired {
  ours: number;
  official: number;
  /** mean of ours − official over seeds */
  diff: number;
  /** standard error of `diff` over seeds */
  se: number;
}
function paired(ours: number[], official: number[], digits: number): Paired {
  const d = meanStd(ours.map((v, i) => v - official[i]));
  const r = (v: number) => Number(v.toFixed(digits));
  return { ours: r(mean(ours)), official: r(mean(official)), diff: r(d.mean), se: r(d.std / Math.sqrt(d.n)) };
}
const sameTest: { iteration: number; seeds: number[]; auc: Paired; l1: Paired; recon: Paired }[] = [];
const pointsAt = [...new Set(seeds.flatMap((seed) => results[seed].map((r) => r.iteration)))].sort(
  (a, b) => a - b,
);
for (const iteration of pointsAt) {
  const rows = seeds
    .map((seed) => ({ seed, r: results[seed].find((r) => r.iteration === iteration && r.officialSameTest) }))
    .filter((x): x is { seed: number; r: EpochResult & { officialSameTest: OfficialSameTest } } => !!x.r);
  if (rows.length < 2) continue;
  sameTest.push({
    iteration,
    seeds: rows.map((x) => x.seed),
    auc: paired(
      rows.map((x) => x.r.auc.discriminator?.overall ?? Number.NaN),
      rows.map((x) => x.r.officialSameTest.auc),
      1,
    ),
    l1: paired(
      rows.map((x) => x.r.auc['recon-l1']?.overall ?? Number.NaN),
      rows.map((x) => x.r.officialSameTest.l1),
      1,
    ),
    recon: paired(
      rows.map((x) => x.r.loss.recon ?? Number.NaN),
      rows.map((x) => x.r.officialSameTest.recon),
      4,
    ),
  });
}

// --against: these runs beside saved runs of another precision (or code path), seed by seed at
// each iteration. Issue #26's marks for bfloat16 against float32: the mean train recon MSE within
// 2 %, and each AUC's paired difference no lower than −1 point and not more than 2 SE below zero.
interface Against {
  iteration: number;
  seeds: number[];
  /** mean recon MSE here / there − 1, in % */
  reconPct: number;
  auc: Paired;
  l1: Paired;
  pass: boolean;
}
const against: Against[] = [];
let againstLabel = '';
if (values.against) {
  const other = readSaved(values.against);
  againstLabel = `${values.against} (${other.schedule}, ${other.precision ?? 'float32'})`;
  for (const iteration of pointsAt) {
    const rows = seeds.flatMap((seed) => {
      const here = results[seed].find((r) => r.iteration === iteration);
      const there = other.results[seed]?.find((r) => r.iteration === iteration);
      return here && there ? [{ seed, here, there }] : [];
    });
    if (rows.length < 2) continue;
    const aucOf = (r: EpochResult, score: string) => r.auc[score]?.overall ?? Number.NaN;
    const auc = paired(
      rows.map((x) => aucOf(x.here, 'discriminator')),
      rows.map((x) => aucOf(x.there, 'discriminator')),
      1,
    );
    const l1 = paired(
      rows.map((x) => aucOf(x.here, 'recon-l1')),
      rows.map((x) => aucOf(x.there, 'recon-l1')),
      1,
    );
    const reconPct =
      Math.round(
        (mean(rows.map((x) => x.here.loss.recon ?? Number.NaN)) /
          mean(rows.map((x) => x.there.loss.recon ?? Number.NaN)) -
          1) *
          1000,
      ) / 10;
    const aucOk = (p: Paired) => p.diff >= -1 && p.diff + 2 * p.se >= 0;
    against.push({
      iteration,
      seeds: rows.map((x) => x.seed),
      reconPct,
      auc,
      l1,
      pass: Math.abs(reconPct) <= 2 && aucOk(auc) && aucOk(l1),
    });
  }
  if (against.length === 0) {
    console.error(`experiment: ${values.against} shares no iteration of 2 or more seeds with these runs`);
    process.exit(1);
  }
}

const summary = {
  backend: backend?.backend,
  nativeKernels: backend?.nativeKernels.enabled ?? false,
  preset: 'digitanatomy',
  schedule,
  precision,
  epochs,
  iterationsPerEpoch: iterations,
  testSet: { seed: TEST_SEED, normal: 200, abnormal: 200 },
  results,
  checks,
  sameTest,
  ...(values.against ? { against: { file: values.against, rows: against } } : {}),
};
if (!values.from) {
  mkdirSync(values.out, { recursive: true });
  writeFileAtomicSync(join(values.out, 'results.json'), `${JSON.stringify(summary, null, 2)}\n`);
}

if (values.json) {
  console.log(JSON.stringify(summary));
} else {
  const types = ['missing', 'swap', 'flip', 'zero'];
  const f = (v: number | null | undefined, d = 4) => (v == null ? '–' : v.toFixed(d));
  console.log(
    `\nschedule ${schedule}: ${schedule === 'official' ? 'two generator forwards per iteration, as the official code' : 'one generator forward per iteration (reuseGeneratorForward)'}`,
  );
  console.log(
    '\nseed  iter  recon   (official)  teacher  dist    adv     D       | D AUC (official; same test)  per type m/s/f/z      | L1 AUC (same test)  worst-cell AUC',
  );
  for (const seed of seeds) {
    for (const r of results[seed]) {
      const d = r.auc.discriminator;
      const per = types.map((t) => f(d?.perType[t], 1)).join('/');
      console.log(
        `${String(seed).padStart(4)}  ${String(r.iteration).padStart(4)}  ${f(r.loss.recon)}  (${f(r.official?.recon)})    ` +
          `${f(r.loss.teacher)}   ${f(r.loss.dist, 3)}   ${f(r.loss.adv, 3)}   ${f(r.loss.d, 5)} | ` +
          `${f(d?.overall, 1).padStart(5)} (${f(r.official?.auc, 1)}; ${f(r.officialSameTest?.auc, 1)})         ${per.padEnd(21)} | ` +
          `${f(r.auc['recon-l1']?.overall, 1).padStart(6)} (${f(r.officialSameTest?.l1, 1)})        ${f(r.auc['recon-l1-worst-cell']?.overall, 1).padStart(6)}`,
      );
    }
  }
  console.log('');
  for (const c of checks) console.log(`${c.pass ? 'pass' : 'FAIL'}  ${c.what}: ${c.ours} vs ${c.official}`);
  console.log(
    '\nAgainst the official code trained here and scored on this same test set, mean over seeds ' +
      '(ours vs official; paired difference ± standard error):',
  );
  const pm = (p: Paired, unit = '') =>
    `${p.ours} vs ${p.official}${unit} (${p.diff >= 0 ? '+' : ''}${p.diff} ± ${p.se})`;
  for (const t of sameTest)
    console.log(
      `  ${String(t.iteration).padStart(4)} it, seeds ${t.seeds.join(',')}: D AUC ${pm(t.auc, ' %')}; ` +
        `L1 AUC ${pm(t.l1, ' %')}; recon ${pm(t.recon)}`,
    );
  if (values.against) {
    console.log(
      `\nAgainst ${againstLabel}, mean over seeds (paired difference ± standard error; marks: recon within 2 %, AUC difference ≥ −1 and ≥ −2 SE):`,
    );
    for (const a of against)
      console.log(
        `${a.pass ? 'pass' : 'FAIL'}  ${String(a.iteration).padStart(4)} it, seeds ${a.seeds.join(',')}: recon ${a.reconPct >= 0 ? '+' : ''}${a.reconPct} %; ` +
          `D AUC ${pm(a.auc, ' %')}; L1 AUC ${pm(a.l1, ' %')}`,
      );
  }
  if (!values.from) console.log(`\nexperiment: results in ${join(values.out, 'results.json')}`);
}
process.exit(checks.every((c) => c.pass) && against.every((a) => a.pass) ? 0 : 1);

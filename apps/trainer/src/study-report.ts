import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { writeFileAtomicSync } from '@squid-ad/backend';
import type { EvaluationReport } from '@squid-ad/evaluator';
import { type MeanStd, meanStd, rocCurve, type Series, seriesSvg } from '@squid-ad/metrics';
import type { StudyPlan, StudyRun } from './study-plan.js';

/** One evaluated run of a study (variant × seed): its test-set numbers. */
export interface StudyRow {
  variant: string;
  model: string;
  seed: number;
  /** the run folder */
  run: string;
  /** iterations the evaluated checkpoint was trained for */
  iterations: number;
  checkpoint: string;
  /** test images evaluated */
  counts: { normal: number; anomalous: number };
  /** the model's own score (its name), whose AUC, accuracy and F1 these are */
  score: string;
  auc: number;
  averagePrecision: number;
  accuracy: number;
  f1: number;
  /** the evaluator's threshold (fixed on the validation split during training) */
  threshold: { value: number | null; source: string; method?: string };
  /** AUC per anomaly type (each type against all normals) */
  perType: Record<string, number>;
  /** AUC of every score the report has (the model's own, recon-l1, recon-l1-worst-cell) */
  scores: Record<string, number>;
}

/** A variant's numbers as mean ± std (ddof 1) over its seeds. */
export interface StudySummaryRow {
  variant: string;
  model: string;
  /** the model's own score, whose AUC, accuracy and F1 these are */
  score: string;
  seeds: number[];
  auc: MeanStd;
  averagePrecision: MeanStd;
  accuracy: MeanStd;
  f1: MeanStd;
  perType: Record<string, MeanStd>;
  /** AUC of `recon-l1` (mean |input − reconstruction|), the score every model has: one yardstick for all rows */
  reconL1: MeanStd | null;
  /**
   * This variant's AUC minus the first variant's (official SQUID), paired by seed over the seeds
   * both have: mean and standard error (std / √n, NaN for one seed); null for the first variant.
   */
  vsFirst: PairedDifference | null;
  /** The same paired difference for the recon-l1 AUC; null for the first variant or without recon-l1. */
  reconL1VsFirst: PairedDifference | null;
}

/** A difference from the first variant, paired by seed: mean and standard error (std / √n, NaN for one seed). */
export interface PairedDifference {
  variant: string;
  mean: number;
  se: number;
  n: number;
}

/** `study.json`. */
export interface StudyResult
  extends Pick<
    StudyPlan,
    // the budget of every run: epochs × iterationsPerEpoch iterations at batch batchSize
    | 'kind'
    | 'title'
    | 'preset'
    | 'seeds'
    | 'variants'
    | 'iterations'
    | 'epochs'
    | 'iterationsPerEpoch'
    | 'batchSize'
  > {
  format: 'squid-study/1';
  createdAt: string;
  /** which checkpoint of each run was evaluated */
  checkpoint: string;
  /** the test split's images (DigitAnatomy: generated); null before the first row */
  test: { split: 'test'; normal: number; anomalous: number } | null;
  rows: StudyRow[];
  summary: StudySummaryRow[];
  /** runs without a row yet (not trained, failed), with the reason */
  missing: Array<{ run: string; reason: string }>;
  /** the Figure-6 grid (`squid-eval figure` of each variant's first seed), beside study.json; null without one */
  figure: string | null;
}

/** A study row from a run's evaluation report. */
export function studyRow(run: StudyRun, report: EvaluationReport): StudyRow {
  const src = report.source as Record<string, unknown>;
  return {
    variant: run.variant,
    model: run.model,
    seed: run.seed,
    run: run.out,
    iterations: Number(src.iteration),
    checkpoint: String(src.checkpoint),
    counts: { normal: report.counts.normal, anomalous: report.counts.anomalous },
    score: typeof src.score === 'string' ? src.score : 'discriminator',
    auc: report.metrics.auc,
    averagePrecision: report.metrics.averagePrecision,
    accuracy: report.metrics.accuracy,
    f1: report.metrics.f1,
    threshold: {
      value: report.threshold.value,
      source: report.threshold.source,
      ...(report.threshold.method ? { method: report.threshold.method } : {}),
    },
    perType: Object.fromEntries(report.perType.map((t) => [t.type, t.auc])),
    scores: Object.fromEntries(Object.entries(report.scores ?? {}).map(([n, s]) => [n, s.auc])),
  };
}

/** The study's result: its rows in plan order and each variant's mean ± std over the seeds it has. */
export function studyResult(
  plan: StudyPlan,
  rows: readonly StudyRow[],
  missing: StudyResult['missing'],
  checkpoint: string,
): StudyResult {
  const ordered = plan.runs.flatMap((r) => rows.filter((row) => row.run === r.out));
  const summary: StudySummaryRow[] = [];
  const first = plan.variants[0];
  const firstRows = ordered.filter((r) => r.variant === first);
  /** `value` of this variant's rows minus the first variant's, paired by seed. */
  const vsFirst = (mine: readonly StudyRow[], value: (r: StudyRow) => number | undefined) => {
    const base = new Map(firstRows.map((r) => [r.seed, value(r)]));
    const diffs = mine.flatMap((r) => {
      const a = value(r);
      const b = base.get(r.seed);
      return a !== undefined && b !== undefined && Number.isFinite(a) && Number.isFinite(b) ? [a - b] : [];
    });
    if (diffs.length === 0) return null;
    const d = meanStd(diffs);
    return { variant: first, mean: d.mean, se: d.n > 1 ? d.std / Math.sqrt(d.n) : Number.NaN, n: d.n };
  };
  for (const variant of plan.variants) {
    const mine = ordered.filter((r) => r.variant === variant);
    if (mine.length === 0) continue;
    const types = [...new Set(mine.flatMap((r) => Object.keys(r.perType)))].sort();
    const l1 = mine.map((r) => r.scores['recon-l1']).filter((v) => v !== undefined && Number.isFinite(v));
    summary.push({
      variant,
      model: mine[0].model,
      score: mine[0].score,
      seeds: mine.map((r) => r.seed),
      auc: meanStd(mine.map((r) => r.auc)),
      averagePrecision: meanStd(mine.map((r) => r.averagePrecision)),
      accuracy: meanStd(mine.map((r) => r.accuracy)),
      f1: meanStd(mine.map((r) => r.f1)),
      perType: Object.fromEntries(
        types.map((t) => [t, meanStd(mine.map((r) => r.perType[t] ?? Number.NaN).filter(Number.isFinite))]),
      ),
      reconL1: l1.length === mine.length ? meanStd(l1) : null,
      vsFirst: variant === first ? null : vsFirst(mine, (r) => r.auc),
      reconL1VsFirst: variant === first ? null : vsFirst(mine, (r) => r.scores['recon-l1']),
    });
  }
  return {
    format: 'squid-study/1',
    createdAt: new Date().toISOString(),
    kind: plan.kind,
    title: plan.title,
    preset: plan.preset,
    seeds: plan.seeds,
    variants: plan.variants,
    iterations: plan.iterations,
    epochs: plan.epochs,
    iterationsPerEpoch: plan.iterationsPerEpoch,
    batchSize: plan.batchSize,
    checkpoint,
    test: ordered[0] ? { split: 'test', ...ordered[0].counts } : null,
    rows: ordered,
    summary,
    missing,
    figure: null,
  };
}

const pct = (v: number) => (v * 100).toFixed(1);
const pm = (m: MeanStd) => (m.n > 1 ? `${pct(m.mean)} ± ${pct(m.std)}` : pct(m.mean));
/** A paired difference in points, signed: `−3.2 ± 1.1` (± standard error; none for one seed). */
const delta = (d: { mean: number; se: number }) => {
  const m = (d.mean * 100).toFixed(1).replace('-', '−');
  return `${d.mean >= 0 ? '+' : ''}${m}${Number.isFinite(d.se) ? ` ± ${pct(d.se)}` : ''}`;
};

/** The anomaly types any row has, sorted. */
const typesOf = (r: StudyResult): string[] =>
  [...new Set(r.rows.flatMap((x) => Object.keys(x.perType)))].sort();

/** The budget and protocol, one sentence (the tables' caption). */
function caption(r: StudyResult): string {
  return (
    `${r.title}: preset ${r.preset}, seeds ${r.seeds.join(', ')}; every run ${r.iterations} iterations ` +
    `(${r.epochs} epochs × ${r.iterationsPerEpoch}) at batch ${r.batchSize} on the same data stream per seed; ` +
    `${r.checkpoint} checkpoint evaluated on the test split${r.test ? ` (${r.test.normal} normal + ${r.test.anomalous} abnormal)` : ''}; ` +
    `each model's own score; accuracy and F1 at the threshold fixed on the validation split; mean ± std (ddof 1) over seeds, in %. ` +
    `ΔAUC: the AUC minus ${r.variants[0]}'s, paired by seed, mean ± standard error; recon-l1: the AUC of the mean |input − reconstruction|, which every model has, and Δ recon-l1 its paired difference.`
  );
}

/** The summary table's cells: variant, n, AUC, accuracy, F1, then one AUC per anomaly type. */
function summaryCells(r: StudyResult): { header: string[]; rows: string[][] } {
  const types = typesOf(r);
  return {
    header: [
      'variant',
      'score',
      'seeds',
      'AUC',
      `ΔAUC vs ${r.variants[0]}`,
      'accuracy',
      'F1',
      ...types.map((t) => `AUC ${t}`),
      'AUC recon-l1',
      `Δ recon-l1 vs ${r.variants[0]}`,
    ],
    rows: r.summary.map((s) => [
      s.variant,
      s.score,
      String(s.seeds.length),
      pm(s.auc),
      s.vsFirst ? delta(s.vsFirst) : '–',
      pm(s.accuracy),
      pm(s.f1),
      ...types.map((t) => (s.perType[t] ? pm(s.perType[t]) : '–')),
      s.reconL1 ? pm(s.reconL1) : '–',
      s.reconL1VsFirst ? delta(s.reconL1VsFirst) : '–',
    ]),
  };
}

/** The per-run table's cells. */
function runCells(r: StudyResult): { header: string[]; rows: string[][] } {
  const types = typesOf(r);
  return {
    header: ['run', 'iterations', 'AUC', 'accuracy', 'F1', ...types.map((t) => `AUC ${t}`), 'AUC recon-l1'],
    rows: r.rows.map((x) => [
      `${x.variant}-seed${x.seed}`,
      String(x.iterations),
      pct(x.auc),
      pct(x.accuracy),
      pct(x.f1),
      ...types.map((t) => (x.perType[t] === undefined ? '–' : pct(x.perType[t]))),
      x.scores['recon-l1'] === undefined ? '–' : pct(x.scores['recon-l1']),
    ]),
  };
}

const mdTable = ({ header, rows }: { header: string[]; rows: string[][] }): string =>
  [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((r) => `| ${r.join(' | ')} |`),
  ].join('\n');

/** `study.md`: the summary table, the per-run table, and the runs still missing. */
export function studyMarkdown(r: StudyResult): string {
  const parts = [
    `# Study: ${r.kind} (${r.preset})`,
    '',
    caption(r),
    '',
    mdTable(summaryCells(r)),
    '',
    '## Runs',
    '',
    mdTable(runCells(r)),
  ];
  if (r.figure) parts.push('', `![the same test images reconstructed by each variant](${r.figure})`);
  if (r.missing.length > 0)
    parts.push('', '## Missing', '', ...r.missing.map((m) => `- ${m.run}: ${m.reason}`));
  return `${parts.join('\n')}\n`;
}

/** A run's test labels and scores (from its `eval/scores.csv`), for the ROC plot. */
export interface RunScores {
  variant: string;
  labels: number[];
  scores: number[];
}

/** Reads `scores.csv` of `squid-eval evaluate`: label and score, the 6th- and 4th-last columns. */
export function parseScoresCsv(text: string, file: string): { labels: number[]; scores: number[] } {
  const labels: number[] = [];
  const scores: number[] = [];
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  for (const line of lines.slice(1)) {
    // The path (first column) may be quoted and hold commas; the last six columns never do.
    const f = line.split(',');
    const label = Number(f[f.length - 6]);
    const score = Number(f[f.length - 4]);
    if (!(label === 0 || label === 1) || !Number.isFinite(score))
      throw new Error(`${file}: cannot read label and score from line "${line}"`);
    labels.push(label);
    scores.push(score);
  }
  return { labels, scores };
}

/** Linear interpolation of `ys` over increasing `xs` at `x` (numpy's `interp`). */
function interp(x: number, xs: readonly number[], ys: readonly number[]): number {
  if (x <= xs[0]) return ys[0];
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) {
      const dx = xs[i] - xs[i - 1];
      return dx === 0 ? ys[i] : ys[i - 1] + ((x - xs[i - 1]) / dx) * (ys[i] - ys[i - 1]);
    }
  }
  return ys[ys.length - 1];
}

/**
 * The ROC curves of all variants in one SVG: per variant, the mean true positive rate over its
 * seeds at each false positive rate (vertical averaging), with a ±1 std band when it has several.
 */
export function studyRocSvg(r: StudyResult, runs: readonly RunScores[]): string {
  const grid = Array.from({ length: 101 }, (_, i) => i / 100);
  const series: Series[] = [];
  // matplotlib's ten colours: the ablation study has eight variants, one colour each.
  const palette = [
    '#1f77b4',
    '#ff7f0e',
    '#2ca02c',
    '#d62728',
    '#9467bd',
    '#8c564b',
    '#e377c2',
    '#7f7f7f',
    '#bcbd22',
    '#17becf',
  ];
  for (const s of r.summary) {
    const curves = runs
      .filter((x) => x.variant === s.variant)
      .map((x) => rocCurve(x.labels, x.scores))
      .map((c) => grid.map((f) => interp(f, c.fpr, c.tpr)));
    if (curves.length === 0) continue;
    series.push({
      name: `${s.variant} (AUC ${pm(s.auc)})`,
      color: palette[series.length % palette.length],
      points: grid.map((x, i) => {
        const m = meanStd(curves.map((c) => c[i]));
        return curves.length > 1
          ? { x, y: m.mean, lower: m.mean - m.std, upper: m.mean + m.std }
          : { x, y: m.mean };
      }),
    });
  }
  if (series.length === 0) return '';
  series.push({
    name: 'chance (AUC 50)',
    color: '#bbb',
    points: [
      { x: 0, y: 0 },
      { x: 1, y: 1 },
    ],
  });
  return seriesSvg(series, {
    xLabel: 'False positive rate (1 − specificity)',
    yLabel: 'True positive rate (sensitivity)',
    title: `ROC on the test split, mean over seeds (${r.kind}, ${r.preset})`,
    width: 640,
    height: 480,
    id: 'study-roc',
  });
}

const esc = (s: string) =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

const htmlTable = ({ header, rows }: { header: string[]; rows: string[][] }): string =>
  `<table><thead><tr>${header.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;

/**
 * `study.html`: self-contained page with the tables, the ROC curves of all variants and, when
 * there is one, the Figure-6 grid (`figurePng`, embedded).
 */
export function studyHtml(r: StudyResult, rocSvg: string, figurePng?: Buffer): string {
  const missing =
    r.missing.length > 0
      ? `<h2>Missing</h2><ul>${r.missing.map((m) => `<li>${esc(m.run)}: ${esc(m.reason)}</li>`).join('')}</ul>`
      : '';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Study ${esc(r.kind)} (${esc(r.preset)})</title>
<style>body{font-family:sans-serif;max-width:1000px;margin:2em auto;padding:0 1em}table{border-collapse:collapse;margin:1em 0}
th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}th:first-child,td:first-child{text-align:left}</style></head>
<body><h1>Study: ${esc(r.kind)} (${esc(r.preset)})</h1>
<p>${esc(caption(r))}</p>
<h2>Summary</h2>${htmlTable(summaryCells(r))}
<h2>ROC curves</h2>${rocSvg}
${
  figurePng
    ? `<h2>Reconstructions</h2><p>The same test images (a normal one, then one of each anomaly type): the input, then each variant's reconstruction (its first seed's run).</p><img id="study-figure" alt="test images reconstructed by each variant" src="data:image/png;base64,${figurePng.toString('base64')}">`
    : ''
}
<h2>Runs</h2>${htmlTable(runCells(r))}
${missing}
<p><small>Written ${esc(r.createdAt)}; the numbers are in study.json.</small></p>
</body></html>
`;
}

/** Paths of the files {@link writeStudy} writes. */
export interface StudyFiles {
  json: string;
  md: string;
  html: string;
}

/** Writes study.json, study.md and study.html into `outRoot`, each atomically; `figure`: the grid's PNG. */
export function writeStudy(
  outRoot: string,
  r: StudyResult,
  runs: readonly RunScores[],
  figure?: string,
): StudyFiles {
  if (figure) r.figure = basename(figure);
  const files = {
    json: join(outRoot, 'study.json'),
    md: join(outRoot, 'study.md'),
    html: join(outRoot, 'study.html'),
  };
  writeFileAtomicSync(files.json, `${JSON.stringify(r, null, 2)}\n`);
  writeFileAtomicSync(files.md, studyMarkdown(r));
  writeFileAtomicSync(
    files.html,
    studyHtml(r, studyRocSvg(r, runs), figure ? readFileSync(figure) : undefined),
  );
  return files;
}

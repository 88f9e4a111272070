import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type MeanStd, meanStd } from '@squid-ad/metrics';
import {
  type EvaluationReport,
  evaluationReportSchema,
  METRIC_NAMES,
  type MetricName,
} from './evaluation-report.js';

/** Where `squid-eval evaluate` puts a run's report by default, and where `compare` reads it. */
export const reportPathOf = (runDir: string): string => join(runDir, 'eval', 'report.json');

/** Reads and validates `RUN_DIR/eval/report.json`; errors name the file and what is wrong. */
export function readRunReport(runDir: string): EvaluationReport {
  return readReport(reportPathOf(runDir), runDir);
}

/** Reads and validates a `report.json` written by `squid-eval evaluate`; errors name the file. */
export function readReport(path: string, runDir = '<run>'): EvaluationReport {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      code === 'ENOENT'
        ? `${path}: no evaluation report (run \`squid-eval evaluate --run ${runDir}\` first)`
        : `${path}: cannot read (${(err as Error).message})`,
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const parsed = evaluationReportSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(
      `${path}: not a squid-eval report: ${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
  }
  return parsed.data;
}

/** Several runs' metrics (e.g. seeds) and their mean ± sample std. */
export interface RunComparison {
  /** the model every run trained (`squid` for reports that do not say: written before other models) */
  model: string;
  runs: Array<{
    runDir: string;
    metrics: Record<MetricName, number>;
    threshold: EvaluationReport['threshold'];
    /** AUC of every score in the report's `scores` section (reports since that section) */
    scoreAucs?: Record<string, number>;
  }>;
  summary: Record<MetricName, MeanStd>;
  /** AUC of each score as mean ± std, for the scores every run's report has */
  scoreAucs: Record<string, MeanStd>;
}

/** The model a report's scores came from: `source.model`, else SQUID (reports before other models). */
const modelOf = (r: EvaluationReport): string =>
  typeof r.source.model === 'string' ? r.source.model : 'squid';

/**
 * Reads each run's report and summarises every metric as mean ± std (ddof 1). The runs must be
 * of one model (their metrics use that model's own score).
 */
export function compareRuns(runDirs: readonly string[]): RunComparison {
  if (runDirs.length === 0) throw new Error('compare: give at least one run directory');
  const reports = runDirs.map((runDir) => readRunReport(runDir));
  const models = [...new Set(reports.map(modelOf))];
  if (models.length > 1)
    throw new Error(
      `compare: runs of different models (${runDirs.map((d, i) => `${d}: ${modelOf(reports[i])}`).join(', ')}); ` +
        'a mean over them means nothing: compare the runs of one model at a time',
    );
  const runs = runDirs.map((runDir, i) => {
    const r = reports[i];
    const scoreAucs = r.scores
      ? Object.fromEntries(Object.entries(r.scores).map(([n, v]) => [n, v.auc]))
      : undefined;
    return { runDir, metrics: r.metrics, threshold: r.threshold, ...(scoreAucs ? { scoreAucs } : {}) };
  });
  const sources = new Set(runs.map((r) => r.threshold.source));
  if (sources.size > 1) {
    throw new Error(
      `compare: runs use different threshold sources (${[...sources].join(', ')}); accuracy/F1 would not be comparable`,
    );
  }
  const summary = Object.fromEntries(
    METRIC_NAMES.map((m) => [m, meanStd(runs.map((r) => r.metrics[m]))]),
  ) as Record<MetricName, MeanStd>;
  const names = Object.keys(runs[0].scoreAucs ?? {}).filter((n) =>
    runs.every((r) => r.scoreAucs?.[n] !== undefined),
  );
  const scoreAucs = Object.fromEntries(
    names.map((n) => [n, meanStd(runs.map((r) => r.scoreAucs?.[n] ?? Number.NaN))]),
  );
  return { model: models[0], runs, summary, scoreAucs };
}

/** The comparison as a plain-text table, metrics in percent. */
export function formatComparison(c: RunComparison): string {
  const pct = (v: number) => (v * 100).toFixed(1);
  const header = ['metric', 'mean ± std', ...c.runs.map((r) => r.runDir)];
  const rows = METRIC_NAMES.map((m) => [
    m,
    `${pct(c.summary[m].mean)} ± ${pct(c.summary[m].std)}`,
    ...c.runs.map((r) => pct(r.metrics[m])),
  ]);
  for (const [n, v] of Object.entries(c.scoreAucs)) {
    rows.push([
      `auc ${n}`,
      `${pct(v.mean)} ± ${pct(v.std)}`,
      ...c.runs.map((r) => pct(r.scoreAucs?.[n] ?? Number.NaN)),
    ]);
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (cells: string[]) =>
    cells
      .map((v, i) => v.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [
    line(header),
    ...rows.map(line),
    `${c.runs.length} runs${c.model === 'squid' ? '' : ` of ${c.model}`}, std with ddof 1, threshold from ${c.runs[0].threshold.source}`,
  ].join('\n');
}

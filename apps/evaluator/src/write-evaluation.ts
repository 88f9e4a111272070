import { join } from 'node:path';
import { writeFileAtomicSync } from '@squid-ad/backend';
import { precisionRecallCurve, prSvg, rocCurve, rocSvg } from '@squid-ad/metrics';
import { firstOfEachClass } from './class-examples.js';
import {
  type EvaluationOptions,
  type EvaluationReport,
  evaluationReport,
  type ThresholdSpec,
} from './evaluation-report.js';
import { imageGrid } from './image-grid.js';
import { type ModelName, reportHtml } from './report-html.js';
import { scoreHistogramSvg } from './score-histogram.js';
import type { ImagePair, ScoredItem } from './scored-item.js';
import { scoresCsv } from './scores-csv.js';

/** Everything an evaluation report is made of. */
export interface EvaluationInput {
  items: readonly ScoredItem[];
  threshold: ThresholdSpec;
  /** input and reconstruction of item `index`, for the grid; no grid without it */
  images?: (index: number) => ImagePair | Promise<ImagePair>;
  /** how many most and least anomalous images the grid shows (default 4 each) */
  gridCount?: number;
  options?: EvaluationOptions;
  /** where the scores came from (run, model, checkpoint, data, split): copied into report.json */
  source?: Record<string, unknown>;
  /** the run's model, named in report.html's title (absent: a SQUID report) */
  model?: ModelName;
  /** images left out as unreadable (`--skip-bad`), with the reason */
  skipped?: EvaluationReport['skipped'];
}

/** Paths of the files {@link writeEvaluation} wrote. */
export interface EvaluationFiles {
  report: string;
  scores: string;
  roc: string;
  pr: string;
  grid?: string;
  html: string;
}

/** Item indices ranked by score, highest first; ties by path so the choice is reproducible. */
export function rankByScore(items: readonly ScoredItem[]): number[] {
  return items
    .map((_, i) => i)
    .sort((a, b) => items[b].score - items[a].score || (items[a].path < items[b].path ? -1 : 1));
}

/**
 * Writes report.json, scores.csv, roc.svg, pr.svg, grid.png and report.html into `outDir`,
 * each atomically.
 */
export async function writeEvaluation(
  outDir: string,
  input: EvaluationInput,
): Promise<{ report: EvaluationReport; files: EvaluationFiles }> {
  const { items } = input;
  const report = evaluationReport(items, input.threshold, input.options, input.source);
  if (input.skipped) report.skipped = input.skipped;
  const labels = items.map((it) => it.label);
  const scores = items.map((it) => it.score);
  const roc = rocSvg(rocCurve(labels, scores), { auc: report.metrics.auc, id: 'roc-svg' });
  const pr = prSvg(precisionRecallCurve(labels, scores), {
    averagePrecision: report.metrics.averagePrecision,
    prevalence: report.counts.anomalous / report.counts.total,
    id: 'pr-svg',
  });
  const histogram = scoreHistogramSvg(items, report.threshold.value, { id: 'histogram-svg' });
  const files: EvaluationFiles = {
    report: join(outDir, 'report.json'),
    scores: join(outDir, 'scores.csv'),
    roc: join(outDir, 'roc.svg'),
    pr: join(outDir, 'pr.svg'),
    html: join(outDir, 'report.html'),
  };

  let grid: Parameters<typeof reportHtml>[0]['grid'];
  if (input.images) {
    const k = Math.min(input.gridCount ?? 4, Math.floor(items.length / 2));
    const ranked = rankByScore(items);
    const most = ranked.slice(0, k);
    const least = ranked.slice(-k).reverse();
    const load = async (idx: number[]) => Promise.all(idx.map((i) => input.images!(i)));
    const sections = [
      { title: 'Most anomalous', pairs: await load(most), items: most.map((i) => items[i]) },
      { title: 'Least anomalous', pairs: await load(least), items: least.map((i) => items[i]) },
    ];
    // With anomaly types (DigitAnatomy), also the paper's Figure 6: a normal image and one of each type.
    const perClass = firstOfEachClass(items);
    if (perClass.length > 1)
      sections.push({
        title: 'One of each class',
        pairs: await load(perClass),
        items: perClass.map((i) => items[i]),
      });
    const g = imageGrid(sections);
    files.grid = join(outDir, 'grid.png');
    writeFileAtomicSync(files.grid, g.png);
    grid = { png: g.png, layout: g.layout, captions: sections };
  }

  writeFileAtomicSync(files.report, `${JSON.stringify(report, null, 2)}\n`);
  writeFileAtomicSync(files.scores, scoresCsv(items, report.threshold.value ?? Number.POSITIVE_INFINITY));
  writeFileAtomicSync(files.roc, roc);
  writeFileAtomicSync(files.pr, pr);
  writeFileAtomicSync(
    files.html,
    reportHtml({
      report,
      items,
      rocSvg: roc,
      prSvg: pr,
      histogramSvg: histogram,
      grid,
      ...(input.model ? { model: input.model } : {}),
    }),
  );
  return { report, files };
}

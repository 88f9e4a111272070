import type { ScoredItem } from './scored-item.js';

const cell = (v: string): string => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/**
 * `scores.csv`: path, label, type, score, prediction (1 = flagged anomalous at the threshold),
 * recon-l1, recon-l1-worst-cell (empty when not computed). Scores are written with full float64
 * precision so the CSV reproduces every metric.
 */
export function scoresCsv(items: readonly ScoredItem[], threshold: number): string {
  const rows = ['path,label,type,score,prediction,recon-l1,recon-l1-worst-cell'];
  for (const it of items) {
    rows.push(
      [
        cell(it.path),
        it.label,
        cell(it.type ?? ''),
        it.score,
        it.score >= threshold ? 1 : 0,
        it.reconL1 ?? '',
        it.reconL1WorstCell ?? '',
      ].join(','),
    );
  }
  return `${rows.join('\n')}\n`;
}

// The scored table: rows, sorting and CSV. No DOM here.

/** One scored image (or one that could not be read). */
export interface ResultRow {
  name: string;
  score?: number;
  /** the model's raw score the score is calibrated from (SQUID: the discriminator logit) */
  logit?: number;
  /** score ≥ threshold; null without a threshold */
  flagged?: boolean | null;
  reconL1?: number;
  reconL1WorstCell?: number;
  /** why the file could not be scored */
  error?: string;
}

export type SortKey = 'name' | 'score' | 'flagged' | 'reconL1' | 'reconL1WorstCell';

/** Rows sorted by `key` (unreadable files always last), a copy. */
export function sortRows(rows: readonly ResultRow[], key: SortKey, descending: boolean): ResultRow[] {
  const value = (r: ResultRow): number | string =>
    key === 'name' ? r.name : key === 'flagged' ? Number(r.flagged ?? -1) : (r[key] ?? Number.NaN);
  return [...rows].sort((a, b) => {
    if (!!a.error !== !!b.error) return a.error ? 1 : -1;
    const x = value(a);
    const y = value(b);
    const c = typeof x === 'string' ? x.localeCompare(String(y)) : x - (y as number);
    return descending ? -c : c;
  });
}

const csvField = (v: string) => (/[",\n\r]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);

/** The table as CSV (header line first); full-precision numbers, an error column for bad files. */
export function rowsToCsv(rows: readonly ResultRow[], threshold: number | null): string {
  const lines = ['file,score,anomalous,threshold,recon_l1,recon_l1_worst_cell,error'];
  for (const r of rows) {
    lines.push(
      [
        csvField(r.name),
        r.score ?? '',
        r.flagged === undefined || r.flagged === null ? '' : r.flagged,
        threshold ?? '',
        r.reconL1 ?? '',
        r.reconL1WorstCell ?? '',
        csvField(r.error ?? ''),
      ].join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

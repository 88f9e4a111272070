import {
  DEFAULT_SCORE_NAME,
  type EvaluationReport,
  type MetricName,
  officialScoreOf,
} from './evaluation-report.js';
import type { GridLayout } from './image-grid.js';
import type { ScoredItem } from './scored-item.js';

/** A model as the report names it (a plug-in's `name`, `title`, `scoreName`). */
export interface ModelName {
  name: string;
  /** e.g. `GANomaly (Akçay et al., ACCV 2018)` */
  title: string;
  scoreName: string;
}

/** What the HTML page shows; everything is inlined, the page loads nothing else. */
export interface ReportPage {
  report: EvaluationReport;
  /** the model whose scores these are; absent: SQUID's (the title says SQUID) */
  model?: ModelName;
  items: readonly ScoredItem[];
  rocSvg: string;
  prSvg: string;
  histogramSvg: string;
  grid?: { png: Uint8Array; layout: GridLayout; captions: Array<{ title: string; items: ScoredItem[] }> };
}

const esc = (s: string): string =>
  s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&#39;' })[c]!);
const pct = (v: number): string => (v * 100).toFixed(1);
/** 4 decimals (SQUID's scores are in [0, 1]); 3 significant digits below 0.001 (e.g. GANomaly's latent distance). */
const scoreText = (v: number): string =>
  v === 0 || Math.abs(v) >= 1e-3 || !Number.isFinite(v) ? v.toFixed(4) : v.toPrecision(3);

const LABELS: Record<MetricName, string> = {
  auc: 'AUC (ROC)',
  averagePrecision: 'Average precision',
  accuracy: 'Accuracy',
  f1: 'F1',
  recall: 'Recall (sensitivity)',
  precision: 'Precision',
  specificity: 'Specificity',
};

const CSS = `
body{font-family:system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}
h1{font-size:22px;margin:0 0 4px}h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;font-size:13px}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}
.plots{display:flex;flex-wrap:wrap;gap:16px}.muted{color:#777;font-size:12px}
.grid-wrap{position:relative;display:inline-block}.grid-wrap img{image-rendering:pixelated;display:block}
.cap{position:absolute;left:calc(100% + 12px);white-space:nowrap;font-size:12px;line-height:1.35}
.sec{font-weight:bold;margin:0 0 4px}.bad{color:#d62728}.ok{color:#2a7}
details summary{cursor:pointer}
`;

const SCORE_NOTES: Record<string, string> = {
  [DEFAULT_SCORE_NAME]: 'official; the metrics and threshold above use it',
  'recon-l1': 'mean |reconstruction − input|',
  'recon-l1-worst-cell': 'largest per-cell mean |reconstruction − input|',
};

/** AUC per score (rows) overall and per anomaly type (columns); empty for reports without `scores`. */
function scoresTable(r: EvaluationReport): string {
  const scores = r.scores;
  if (!scores || Object.keys(scores).length === 0) return '';
  // the model's own score first, then the others in the report's order
  const official = officialScoreOf(r);
  const names = [
    ...(scores[official] ? [official] : []),
    ...Object.keys(scores).filter((n) => n !== official),
  ];
  const types = [...new Set(names.flatMap((n) => scores[n].perType.map((t) => t.type)))];
  const head =
    `<tr><th>score</th><th class="num">AUC %</th><th class="num">${Math.round(r.ci.level * 100)} % CI</th>` +
    `${types.map((t) => `<th class="num">${esc(t)}</th>`).join('')}</tr>`;
  const rows = names
    .map((n) => {
      const s = scores[n];
      const byType = new Map(s.perType.map((t) => [t.type, t.auc]));
      const cell = n === 'recon-l1-worst-cell' && typeof r.source.reconCell === 'number';
      const note0 =
        n === official && official !== DEFAULT_SCORE_NAME
          ? "the model's own score; the metrics and threshold above use it"
          : (SCORE_NOTES[n] ?? '');
      const text = `${note0}${cell ? ` (${r.source.reconCell} px cells)` : ''}`;
      const note = text ? ` <span class="muted">${esc(text)}</span>` : '';
      const cells = types.map((t) => `<td class="num">${byType.has(t) ? pct(byType.get(t)!) : ''}</td>`);
      return `<tr><td>${esc(n)}${note}</td><td class="num">${pct(s.auc)}</td><td class="num">${pct(s.ci.lower)} – ${pct(s.ci.upper)}</td>${cells.join('')}</tr>`;
    })
    .join('');
  return (
    `<h2>AUC per score</h2><table id="score-aucs">${head}${rows}</table>` +
    `<p class="muted">higher score = more anomalous for every score; per-type columns: AUC % of each type against all normal images</p>`
  );
}

/** The images `--skip-bad` left out, if any. */
function skippedSection(r: EvaluationReport): string {
  if (!r.skipped?.length) return '';
  const rows = r.skipped.map((f) => `<tr><td>${esc(f.path)}</td><td>${esc(f.reason)}</td></tr>`).join('');
  return `<h2>Skipped images</h2><p>${r.skipped.length} unreadable image${r.skipped.length === 1 ? ' was' : 's were'} left out of every number above.</p><table id="skipped"><tr><th>file</th><th>reason</th></tr>${rows}</table>`;
}

/** `source.backend` (a BackendStatus) as `wasm, 2 threads, oneDNN on`. */
function backendText(v: unknown): string {
  const b = v as { backend?: string; threads?: number; nativeKernels?: { enabled?: boolean } };
  if (typeof b !== 'object' || b === null || typeof b.backend !== 'string') return String(v);
  return `${b.backend}, ${b.threads ?? 1} thread${b.threads === 1 ? '' : 's'}, oneDNN ${b.nativeKernels?.enabled ? 'on' : 'off'}`;
}

/** The page title: SQUID's reports keep theirs; another model's names the model and its source. */
function titleOf(model: ModelName | undefined): string {
  return !model || model.name === 'squid' ? 'SQUID evaluation report' : `Evaluation report: ${model.title}`;
}

/** The self-contained `report.html`. */
export function reportHtml(page: ReportPage): string {
  const { report, items } = page;
  const r = report;
  const title = titleOf(page.model);
  const official = officialScoreOf(r);
  // SQUID's reports say `score` as before; another model's name theirs.
  const scoreLabel = official === DEFAULT_SCORE_NAME ? 'score' : `${esc(official)} score`;
  const modelLine = page.model
    ? `<p id="model">Model <b>${esc(page.model.title)}</b>; its score <b>${esc(page.model.scoreName)}</b> (higher = more anomalous) is the one the metrics and threshold use.</p>\n`
    : '';
  const th = r.threshold;
  const source = Object.entries(r.source)
    .map(([k, v]) => `<b>${esc(k)}</b> ${esc(k === 'backend' ? backendText(v) : String(v))}`)
    .join(' · ');
  const metricRows = (Object.keys(LABELS) as MetricName[])
    .map(
      (k) =>
        `<tr><td>${LABELS[k]}</td><td class="num">${pct(r.metrics[k])}</td><td class="num">${pct(r.ci[k].lower)} – ${pct(r.ci[k].upper)}</td></tr>`,
    )
    .join('');
  const perType = r.perType.length
    ? `<h2>AUC per anomaly type</h2><table id="per-type"><tr><th>type</th><th class="num">anomalous images</th><th class="num">AUC %</th><th class="num">${Math.round(r.ci.level * 100)} % CI</th></tr>${r.perType
        .map(
          (t) =>
            `<tr><td>${esc(t.type)}</td><td class="num">${t.count}</td><td class="num">${pct(t.auc)}</td><td class="num">${t.ci ? `${pct(t.ci.lower)} – ${pct(t.ci.upper)}` : ''}</td></tr>`,
        )
        .join('')}</table><p class="muted">each type against all normal images</p>`
    : '';
  let grid = '';
  const scoreTable = scoresTable(r);
  if (page.grid) {
    const { layout, captions } = page.grid;
    const zoom = Math.max(1, Math.floor(160 / layout.cell));
    const caps = layout.rows
      .map((row) => {
        const it = captions[row.section].items[row.index];
        const title = row.index === 0 ? `<div class="sec">${esc(captions[row.section].title)}</div>` : '';
        const verdict =
          it.label === 1 ? '<span class="bad">anomalous</span>' : '<span class="ok">normal</span>';
        return `<div class="cap" style="top:${row.y * zoom}px">${title}#${row.index + 1} score ${scoreText(it.score)} · ${verdict}${it.type ? ` (${esc(it.type)})` : ''}<br><span class="muted">${esc(it.path)}</span></div>`;
      })
      .join('');
    const b64 = Buffer.from(page.grid.png).toString('base64');
    grid =
      `<h2>Most and least anomalous images</h2><p class="muted">columns: input · reconstruction · |input − reconstruction| (inferno colours, brightest = ${layout.diffScale.toFixed(3)})</p>` +
      `<figure id="image-grid" style="margin:0"><div class="grid-wrap"><img alt="image grid" src="data:image/png;base64,${b64}" width="${layout.width * zoom}" height="${layout.height * zoom}">${caps}</div></figure>`;
  }
  const sorted = [...items].sort((a, b) => b.score - a.score);
  const t = th.value ?? Number.POSITIVE_INFINITY;
  const withErrors = items.some((it) => it.reconL1 !== undefined);
  const num = (v: number | undefined) => `<td class="num">${v === undefined ? '' : v.toFixed(6)}</td>`;
  const scoreRows = sorted
    .map(
      (it, i) =>
        `<tr><td class="num">${i + 1}</td><td>${esc(it.path)}</td><td>${it.label ? 'anomalous' : 'normal'}</td><td>${esc(it.type ?? '')}</td><td class="num">${it.score.toFixed(6)}</td><td>${it.score >= t ? 'anomalous' : 'normal'}</td>${withErrors ? num(it.reconL1) + num(it.reconL1WorstCell) : ''}</tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<meta name="viewport" content="width=device-width,initial-scale=1">
<link rel="icon" href="data:,">
<style>${CSS}</style></head><body>
<h1>${esc(title)}</h1>
${modelLine}<p class="muted">${source}${source ? ' · ' : ''}${esc(r.createdAt)}</p>
<p>${r.counts.total} images: ${r.counts.normal} normal, ${r.counts.anomalous} anomalous.</p>
<h2>Metrics</h2>
<table id="metrics"><tr><th>metric</th><th class="num">%</th><th class="num">${Math.round(r.ci.level * 100)} % CI</th></tr>${metricRows}</table>
<p>Threshold <b>${th.value === null ? '∞ (flag nothing)' : th.value.toPrecision(6)}</b> from <b>${esc(th.source)}</b>${th.method ? ` (${esc(th.method)}${th.targetSensitivity !== undefined ? ` ${th.targetSensitivity}` : ''})` : ''}: ${esc(th.note)}. An image is flagged anomalous when its ${scoreLabel} ≥ the threshold.</p>
<table id="confusion"><tr><th></th><th>flagged anomalous</th><th>flagged normal</th></tr>
<tr><th>anomalous</th><td class="num">${r.confusion.tp} (TP)</td><td class="num">${r.confusion.fn} (FN)</td></tr>
<tr><th>normal</th><td class="num">${r.confusion.fp} (FP)</td><td class="num">${r.confusion.tn} (TN)</td></tr></table>
<p class="muted">CIs: ${esc(r.ci.method)}, ${r.ci.resamples} resamples, seed ${r.ci.seed}.</p>
${perType}
${scoreTable}
${skippedSection(r)}
<h2>Curves</h2>
<div class="plots"><div id="roc-plot">${page.rocSvg}</div><div id="pr-plot">${page.prSvg}</div><div id="score-histogram">${page.histogramSvg}</div></div>
${grid}
<h2>All scores</h2>
<details><summary>${items.length} images, most anomalous first</summary>
<table id="scores"><tr><th class="num">rank</th><th>path</th><th>label</th><th>type</th><th class="num">${scoreLabel}</th><th>prediction</th>${withErrors ? '<th class="num">recon-l1</th><th class="num">recon-l1-worst-cell</th>' : ''}</tr>${scoreRows}</table></details>
</body></html>
`;
}

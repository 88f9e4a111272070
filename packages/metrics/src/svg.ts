import type { PrCurve } from './precision-recall.js';
import type { RocCurve } from './roc.js';

export interface PlotOptions {
  /** title above the plot */
  title?: string;
  /** pixel size of the whole SVG (default 360 × 360) */
  width?: number;
  height?: number;
  /** `id` attribute of the root <svg>, so a page can find it */
  id?: string;
  /** line colour (default #1f77b4, matplotlib's first colour) */
  color?: string;
}

const MARGIN = { left: 52, right: 16, top: 34, bottom: 46 };

const escapeXml = (s: string): string =>
  s.replace(
    /[<>&"']/g,
    (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!,
  );

const fmt = (v: number): string => (Math.round(v * 100) / 100).toString();

/** Plot frame: maps the unit square to pixels, draws axes, ticks, grid and labels. */
function frame(xLabel: string, yLabel: string, options: PlotOptions) {
  const { width = 360, height = 360, title = '' } = options;
  const w = width - MARGIN.left - MARGIN.right;
  const h = height - MARGIN.top - MARGIN.bottom;
  if (w <= 0 || h <= 0) throw new Error(`plot size ${width}×${height} is too small for the axes`);
  const px = (x: number) => MARGIN.left + x * w;
  const py = (y: number) => MARGIN.top + (1 - y) * h;
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const t = i / 5;
    parts.push(
      `<line x1="${fmt(px(t))}" y1="${fmt(py(0))}" x2="${fmt(px(t))}" y2="${fmt(py(1))}" stroke="#e5e5e5"/>`,
      `<line x1="${fmt(px(0))}" y1="${fmt(py(t))}" x2="${fmt(px(1))}" y2="${fmt(py(t))}" stroke="#e5e5e5"/>`,
      `<text x="${fmt(px(t))}" y="${fmt(py(0) + 16)}" text-anchor="middle">${t.toFixed(1)}</text>`,
      `<text x="${fmt(px(0) - 6)}" y="${fmt(py(t) + 4)}" text-anchor="end">${t.toFixed(1)}</text>`,
    );
  }
  parts.push(
    `<rect x="${fmt(px(0))}" y="${fmt(py(1))}" width="${fmt(w)}" height="${fmt(h)}" fill="none" stroke="#333"/>`,
    `<text x="${fmt(px(0.5))}" y="${fmt(height - 8)}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${fmt(py(0.5))}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    `<text x="${fmt(width / 2)}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  );
  const open =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    `${options.id ? ` id="${escapeXml(options.id)}"` : ''} font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="#fff"/>`;
  return { px, py, open, axes: parts.join(''), close: '</svg>' };
}

const points = (xs: number[], ys: number[], px: (v: number) => number, py: (v: number) => number): string =>
  xs.map((x, i) => `${fmt(px(x))},${fmt(py(ys[i]))}`).join(' ');

/** A ROC curve as a standalone SVG document (with the chance diagonal and the AUC in the title). */
export function rocSvg(
  curve: Pick<RocCurve, 'fpr' | 'tpr'>,
  options: PlotOptions & { auc?: number } = {},
): string {
  const title =
    options.title ?? (options.auc === undefined ? 'ROC' : `ROC (AUC = ${options.auc.toFixed(3)})`);
  const f = frame('False positive rate (1 − specificity)', 'True positive rate (sensitivity)', {
    ...options,
    title,
  });
  const color = options.color ?? '#1f77b4';
  return (
    f.open +
    f.axes +
    `<line class="chance" x1="${fmt(f.px(0))}" y1="${fmt(f.py(0))}" x2="${fmt(f.px(1))}" y2="${fmt(f.py(1))}" stroke="#999" stroke-dasharray="4 4"/>` +
    `<polyline class="curve" fill="none" stroke="${color}" stroke-width="2" points="${points(curve.fpr, curve.tpr, f.px, f.py)}"/>` +
    f.close
  );
}

/**
 * A precision-recall curve as a standalone SVG document, drawn as steps (matplotlib's
 * `steps-post`, as sklearn's PrecisionRecallDisplay), with the anomaly prevalence as baseline.
 */
export function prSvg(
  curve: Pick<PrCurve, 'precision' | 'recall'>,
  options: PlotOptions & { averagePrecision?: number; prevalence?: number } = {},
): string {
  const ap = options.averagePrecision;
  const title =
    options.title ?? (ap === undefined ? 'Precision-recall' : `Precision-recall (AP = ${ap.toFixed(3)})`);
  const f = frame('Recall (sensitivity)', 'Precision', { ...options, title });
  const color = options.color ?? '#1f77b4';
  // Steps go from the high-recall end: recall decreases along the arrays.
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < curve.recall.length; i++) {
    if (i > 0) {
      xs.push(curve.recall[i]);
      ys.push(curve.precision[i - 1]);
    }
    xs.push(curve.recall[i]);
    ys.push(curve.precision[i]);
  }
  const baseline =
    options.prevalence === undefined
      ? ''
      : `<line class="chance" x1="${fmt(f.px(0))}" y1="${fmt(f.py(options.prevalence))}" x2="${fmt(f.px(1))}" y2="${fmt(f.py(options.prevalence))}" stroke="#999" stroke-dasharray="4 4"/>`;
  return (
    f.open +
    f.axes +
    baseline +
    `<polyline class="curve" fill="none" stroke="${color}" stroke-width="2" points="${points(xs, ys, f.px, f.py)}"/>` +
    f.close
  );
}

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

/** The data range an axis shows. */
interface Domain {
  min: number;
  max: number;
}
const UNIT: Domain = { min: 0, max: 1 };

/** A tick label: one decimal on the unit range, whole numbers on wide ranges. */
const tickLabel = (v: number, d: Domain): string =>
  d.max - d.min >= 10 ? String(Math.round(v)) : v.toFixed(d.max - d.min >= 1 ? 1 : 2);

/**
 * Plot frame: maps the data domains (default the unit square) to pixels, draws axes, five ticks
 * per axis, grid and labels.
 */
function frame(xLabel: string, yLabel: string, options: PlotOptions, xd = UNIT, yd = UNIT) {
  const { width = 360, height = 360, title = '' } = options;
  const w = width - MARGIN.left - MARGIN.right;
  const h = height - MARGIN.top - MARGIN.bottom;
  if (w <= 0 || h <= 0) throw new Error(`plot size ${width}×${height} is too small for the axes`);
  const px = (x: number) => MARGIN.left + ((x - xd.min) / (xd.max - xd.min)) * w;
  const py = (y: number) => MARGIN.top + (1 - (y - yd.min) / (yd.max - yd.min)) * h;
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const x = xd.min + (i / 5) * (xd.max - xd.min);
    const y = yd.min + (i / 5) * (yd.max - yd.min);
    parts.push(
      `<line x1="${fmt(px(x))}" y1="${fmt(py(yd.min))}" x2="${fmt(px(x))}" y2="${fmt(py(yd.max))}" stroke="#e5e5e5"/>`,
      `<line x1="${fmt(px(xd.min))}" y1="${fmt(py(y))}" x2="${fmt(px(xd.max))}" y2="${fmt(py(y))}" stroke="#e5e5e5"/>`,
      `<text x="${fmt(px(x))}" y="${fmt(py(yd.min) + 16)}" text-anchor="middle">${tickLabel(x, xd)}</text>`,
      `<text x="${fmt(px(xd.min) - 6)}" y="${fmt(py(y) + 4)}" text-anchor="end">${tickLabel(y, yd)}</text>`,
    );
  }
  parts.push(
    `<rect x="${fmt(MARGIN.left)}" y="${fmt(MARGIN.top)}" width="${fmt(w)}" height="${fmt(h)}" fill="none" stroke="#333"/>`,
    `<text x="${fmt(MARGIN.left + w / 2)}" y="${fmt(height - 8)}" text-anchor="middle">${escapeXml(xLabel)}</text>`,
    `<text transform="translate(14 ${fmt(MARGIN.top + h / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yLabel)}</text>`,
    `<text x="${fmt(width / 2)}" y="20" text-anchor="middle" font-weight="bold">${escapeXml(title)}</text>`,
  );
  const open =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"` +
    `${options.id ? ` id="${escapeXml(options.id)}"` : ''} font-family="sans-serif" font-size="11">` +
    // The accessible name of the image, which screen readers and linters (a11y) look for.
    `<title>${escapeXml(title || `${yLabel} against ${xLabel}`)}</title><rect width="100%" height="100%" fill="#fff"/>`;
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

/** One line of a {@link seriesSvg} plot: points in x order, each with an optional interval. */
export interface Series {
  name: string;
  color?: string;
  points: ReadonlyArray<{ x: number; y: number; lower?: number; upper?: number }>;
}

/** matplotlib's first colours, for series without one. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b'];

/**
 * Lines against a shared x axis (e.g. AUC against training iterations) as a standalone SVG
 * document: each series a polyline, its intervals a translucent band, a legend, and an optional
 * dashed reference line (chance at 0.5). The x range runs from 0 to the largest x.
 */
export function seriesSvg(
  series: readonly Series[],
  options: PlotOptions & { xLabel: string; yLabel: string; y?: Domain; reference?: number },
): string {
  const xs = series.flatMap((s) => s.points.map((p) => p.x));
  if (xs.length === 0) throw new Error('seriesSvg: no points');
  const xd = { min: 0, max: Math.max(...xs) || 1 };
  const yd = options.y ?? UNIT;
  const f = frame(options.xLabel, options.yLabel, { width: 560, height: 360, ...options }, xd, yd);
  const clampY = (v: number) => Math.min(yd.max, Math.max(yd.min, v));
  const parts: string[] = [];
  if (options.reference !== undefined)
    parts.push(
      `<line class="reference" x1="${fmt(f.px(xd.min))}" y1="${fmt(f.py(options.reference))}" x2="${fmt(f.px(xd.max))}" y2="${fmt(f.py(options.reference))}" stroke="#999" stroke-dasharray="4 4"/>`,
    );
  series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const banded = s.points.filter((p) => p.lower !== undefined && p.upper !== undefined);
    if (banded.length > 1) {
      const upper = banded.map((p) => `${fmt(f.px(p.x))},${fmt(f.py(clampY(p.upper!)))}`);
      const lower = banded.map((p) => `${fmt(f.px(p.x))},${fmt(f.py(clampY(p.lower!)))}`).reverse();
      parts.push(
        `<polygon class="band" fill="${color}" fill-opacity="0.15" stroke="none" points="${[...upper, ...lower].join(' ')}"/>`,
      );
    }
    parts.push(
      `<polyline class="series" fill="none" stroke="${color}" stroke-width="2" points="${points(
        s.points.map((p) => p.x),
        s.points.map((p) => clampY(p.y)),
        f.px,
        f.py,
      )}"/>`,
      `<line x1="${fmt(f.px(xd.min) + 10)}" y1="${fmt(f.py(yd.max) + 14 + 16 * k)}" x2="${fmt(f.px(xd.min) + 30)}" y2="${fmt(f.py(yd.max) + 14 + 16 * k)}" stroke="${color}" stroke-width="2"/>`,
      `<text class="legend" x="${fmt(f.px(xd.min) + 36)}" y="${fmt(f.py(yd.max) + 18 + 16 * k)}">${escapeXml(s.name)}</text>`,
    );
  });
  return f.open + f.axes + parts.join('') + f.close;
}

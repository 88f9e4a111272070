import type { ScoredItem } from './scored-item.js';

const esc = (s: string): string =>
  s.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);

/**
 * Overlaid histograms of normal and anomalous scores as a standalone SVG, with the threshold
 * as a vertical line: shows at a glance how well the classes separate.
 */
export function scoreHistogramSvg(
  items: readonly ScoredItem[],
  threshold: number | null,
  options: { bins?: number; width?: number; height?: number; id?: string } = {},
): string {
  const { bins = 30, width = 480, height = 240, id } = options;
  const scores = items.map((it) => it.score);
  let lo = Math.min(...scores);
  let hi = Math.max(...scores);
  if (threshold !== null && Number.isFinite(threshold)) {
    lo = Math.min(lo, threshold);
    hi = Math.max(hi, threshold);
  }
  if (hi - lo < 1e-12) hi = lo + 1;
  const counts = [new Array<number>(bins).fill(0), new Array<number>(bins).fill(0)];
  for (const it of items)
    counts[it.label][Math.min(bins - 1, Math.floor(((it.score - lo) / (hi - lo)) * bins))]++;
  const max = Math.max(1, ...counts[0], ...counts[1]);
  const m = { left: 40, right: 12, top: 28, bottom: 36 };
  const w = width - m.left - m.right;
  const h = height - m.top - m.bottom;
  const px = (v: number) => m.left + ((v - lo) / (hi - lo)) * w;
  const py = (c: number) => m.top + (1 - c / max) * h;
  const bars = counts
    .map((cs, label) =>
      cs
        .map((c, b) => {
          if (c === 0) return '';
          const x = m.left + (b / bins) * w;
          return `<rect x="${x.toFixed(1)}" y="${py(c).toFixed(1)}" width="${(w / bins).toFixed(1)}" height="${(m.top + h - py(c)).toFixed(1)}" fill="${label ? '#d62728' : '#1f77b4'}" fill-opacity="0.5"/>`;
        })
        .join(''),
    )
    .join('');
  const t =
    threshold !== null && Number.isFinite(threshold)
      ? `<line x1="${px(threshold).toFixed(1)}" y1="${m.top}" x2="${px(threshold).toFixed(1)}" y2="${m.top + h}" stroke="#000" stroke-dasharray="4 3"/>` +
        `<text x="${(px(threshold) + 4).toFixed(1)}" y="${m.top + 12}">threshold ${threshold.toPrecision(4)}</text>`
      : '';
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}"${id ? ` id="${esc(id)}"` : ''} font-family="sans-serif" font-size="11">` +
    `<rect width="100%" height="100%" fill="#fff"/>` +
    `<text x="${width / 2}" y="18" text-anchor="middle" font-weight="bold">Score distribution</text>` +
    bars +
    t +
    `<rect x="${m.left}" y="${m.top}" width="${w}" height="${h}" fill="none" stroke="#333"/>` +
    `<text x="${m.left}" y="${height - 20}">${lo.toPrecision(3)}</text>` +
    `<text x="${m.left + w}" y="${height - 20}" text-anchor="end">${hi.toPrecision(3)}</text>` +
    `<text x="${m.left + w / 2}" y="${height - 6}" text-anchor="middle">anomaly score</text>` +
    `<text x="${m.left}" y="18" fill="#1f77b4">■ normal (${counts[0].reduce((a, b) => a + b, 0)})</text>` +
    `<text x="${m.left + w}" y="18" text-anchor="end" fill="#d62728">■ anomalous (${counts[1].reduce((a, b) => a + b, 0)})</text>` +
    `</svg>`
  );
}

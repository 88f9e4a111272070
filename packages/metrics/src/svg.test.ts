import { describe, expect, it } from 'vitest';
import { precisionRecallCurve } from './precision-recall.js';
import { rocCurve } from './roc.js';
import { prSvg, rocSvg } from './svg.js';

const polylinePoints = (svg: string): number[][] => {
  const m = /<polyline class="curve"[^>]* points="([^"]*)"/.exec(svg);
  if (!m) throw new Error('no curve polyline');
  return m[1].split(' ').map((p) => p.split(',').map(Number));
};

describe('rocSvg', () => {
  it('is a standalone SVG whose curve maps (fpr, tpr) into the plot box', () => {
    const roc = rocCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    const svg = rocSvg(roc, { auc: 0.75, id: 'roc' });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.endsWith('</svg>')).toBe(true);
    expect(svg).toContain('id="roc"');
    expect(svg).toContain('AUC = 0.750');
    // 360×360 with margins left 52, right 16, top 34, bottom 46: plot box 292 × 280
    const pts = polylinePoints(svg);
    expect(pts).toEqual([
      [52, 314],
      [52, 174],
      [198, 174],
      [198, 34],
      [344, 34],
    ]);
  });

  it('escapes text', () => {
    expect(rocSvg({ fpr: [0, 1], tpr: [0, 1] }, { title: 'a < b & "c"' })).toContain(
      'a &lt; b &amp; &quot;c&quot;',
    );
  });
});

describe('prSvg', () => {
  it('draws the PR curve as steps with the prevalence baseline', () => {
    const pr = precisionRecallCurve([0, 0, 1, 1], [0.1, 0.4, 0.35, 0.8]);
    const svg = prSvg(pr, { averagePrecision: 0.8333, prevalence: 0.5 });
    expect(svg).toContain('AP = 0.833');
    const pts = polylinePoints(svg);
    // 5 PR points → 5 + 4 step corners
    expect(pts.length).toBe(9);
    expect(pts[0]).toEqual([344, 174]); // recall 1, precision 0.5
    expect(pts[pts.length - 1]).toEqual([52, 34]); // recall 0, precision 1
    expect(svg).toMatch(/class="chance" x1="52" y1="174"/);
  });
});

import { describe, expect, it } from 'vitest';
import { precisionRecallCurve } from './precision-recall.js';
import { rocCurve } from './roc.js';
import { prSvg, rocSvg, seriesSvg } from './svg.js';

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
    // its accessible name, the plot's title, first inside the root element
    expect(svg).toMatch(/^<svg [^>]*><title>ROC \(AUC = 0\.750\)<\/title>/);
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

describe('seriesSvg', () => {
  it('maps (iteration, AUC) into the plot box, draws interval bands, ticks of the data range and a legend', () => {
    const svg = seriesSvg(
      [
        {
          name: 'discriminator',
          points: [
            { x: 0, y: 0.5, lower: 0.4, upper: 0.6 },
            { x: 1000, y: 0.75, lower: 0.7, upper: 0.8 },
            { x: 2000, y: 1, lower: 0.95, upper: 1.2 },
          ],
        },
        { name: 'recon-l1', points: [{ x: 2000, y: 0.25 }] },
      ],
      { xLabel: 'iteration', yLabel: 'AUC', reference: 0.5, width: 360, height: 360 },
    );
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    // plot box 292 × 280 from (52, 34): x 0..2000, y 0..1
    const line = /<polyline class="series"[^>]* points="([^"]*)"/.exec(svg)![1];
    expect(line).toBe('52,174 198,104 344,34');
    // the band runs along the upper bounds (clamped to the axis) and back along the lower ones
    const band = /<polygon class="band"[^>]* points="([^"]*)"/.exec(svg)![1];
    expect(band).toBe('52,146 198,90 344,34 344,48 198,118 52,202');
    expect(svg).toContain('>2000</text>');
    expect(svg).toContain('>800</text>');
    expect(svg).toContain('>0.4</text>');
    expect(svg).toContain('class="reference" x1="52" y1="174" x2="344" y2="174"');
    expect(svg.match(/class="legend"/g)).toHaveLength(2);
    expect(svg).toContain('>recon-l1</text>');
    expect(() => seriesSvg([], { xLabel: 'x', yLabel: 'y' })).toThrow('no points');
  });
});

import { bootstrapCi, rocAuc } from '@squid-ad/metrics';
import { describe, expect, it } from 'vitest';
import { evaluationReport, evaluationReportSchema } from './evaluation-report.js';
import type { ScoredItem } from './scored-item.js';
import { scoresCsv } from './scores-csv.js';

// sklearn's docs vector: AUC 0.75, AP 0.8333…
const ITEMS: ScoredItem[] = [
  { path: 'n1.png', label: 0, score: 0.1 },
  { path: 'n2.png', label: 0, score: 0.4 },
  { path: 'a1.png', label: 1, score: 0.35, type: 'swap' },
  { path: 'a2.png', label: 1, score: 0.8, type: 'missing' },
];

describe('evaluationReport', () => {
  it('with an oracle max-accuracy threshold reproduces the hand-computed numbers', () => {
    const r = evaluationReport(ITEMS, { source: 'oracle', method: 'max-accuracy' }, { resamples: 200 });
    expect(r.metrics.auc).toBeCloseTo(0.75, 15);
    expect(r.metrics.averagePrecision).toBeCloseTo(0.8333333333333333, 15);
    // accuracy 0.75 at 0.8 and at 0.35: the highest wins → tp 1, fp 0, tn 2, fn 1
    expect(r.threshold).toMatchObject({ value: 0.8, source: 'oracle', method: 'max-accuracy' });
    expect(r.confusion).toEqual({ tp: 1, fp: 0, tn: 2, fn: 1 });
    expect(r.metrics.accuracy).toBe(0.75);
    expect(r.metrics.f1).toBeCloseTo(2 / 3, 15);
    expect(r.metrics.recall).toBe(0.5);
    expect(r.metrics.precision).toBe(1);
    expect(r.metrics.specificity).toBe(1);
    expect(r.counts).toEqual({ total: 4, normal: 2, anomalous: 2 });
    // each type against both normals: swap 0.35 beats 0.1, loses to 0.4 → 0.5; missing 0.8 → 1
    expect(r.perType.map((t) => [t.type, t.count, t.auc])).toEqual([
      ['missing', 1, 1],
      ['swap', 1, 0.5],
    ]);
    expect(evaluationReportSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('uses a validation threshold as given and reports it as such', () => {
    const r = evaluationReport(ITEMS, { source: 'val', value: 0.35, method: 'run' }, { resamples: 50 });
    expect(r.threshold).toMatchObject({ value: 0.35, source: 'val', method: 'run' });
    expect(r.threshold.note).toMatch(/validation/);
    expect(r.metrics.f1).toBeCloseTo(0.8, 15);
    expect(r.metrics.specificity).toBe(0.5);
  });

  it('stores "flag nothing" as null and keeps JSON valid', () => {
    const r = evaluationReport(
      ITEMS,
      { source: 'fixed', value: Number.POSITIVE_INFINITY },
      { resamples: 20 },
    );
    expect(r.threshold.value).toBeNull();
    expect(r.confusion).toEqual({ tp: 0, fp: 0, tn: 2, fn: 2 });
  });

  it('gives seeded percentile-bootstrap CIs equal to the metrics package', () => {
    const y = Array.from({ length: 60 }, (_, i) => (i % 3 === 0 ? 1 : 0));
    const items: ScoredItem[] = y.map((label, i) => ({
      path: `${i}.png`,
      label: label as 0 | 1,
      score: ((i * 37) % 61) / 61 + 0.3 * label,
    }));
    const r = evaluationReport(items, { source: 'oracle', method: 'youden' }, { resamples: 300, seed: 4 });
    const ci = bootstrapCi(
      y,
      items.map((it) => it.score),
      rocAuc,
      { resamples: 300, seed: 4 },
    );
    expect(r.ci.auc).toEqual({ lower: ci.lower, upper: ci.upper });
    for (const k of [
      'auc',
      'averagePrecision',
      'accuracy',
      'f1',
      'recall',
      'precision',
      'specificity',
    ] as const) {
      expect(r.ci[k].lower).toBeLessThanOrEqual(r.metrics[k] + 1e-12);
      expect(r.ci[k].upper).toBeGreaterThanOrEqual(r.metrics[k] - 1e-12);
    }
    expect(r.ci.auc.upper - r.ci.auc.lower).toBeGreaterThan(0.05);
  });

  it('reports the AUC of every score the items carry, overall and per type, with paired CIs', () => {
    // recon-l1: normals 0.05, 0.02; swap 0.03 beats 0.02 only, missing 0.01 beats none → 1/4
    // recon-l1-worst-cell: normals 0.1, 0.2; swap 0.3 and missing 0.25 beat both → 1
    const errors = [
      [0.05, 0.1],
      [0.02, 0.2],
      [0.03, 0.3],
      [0.01, 0.25],
    ];
    const items = ITEMS.map((it, i) => ({ ...it, reconL1: errors[i][0], reconL1WorstCell: errors[i][1] }));
    const r = evaluationReport(
      items,
      { source: 'oracle', method: 'max-accuracy' },
      { resamples: 200, seed: 3 },
    );
    const s = r.scores!;
    expect(Object.keys(s)).toEqual(['discriminator', 'recon-l1', 'recon-l1-worst-cell']);
    // the discriminator's entry repeats the official numbers
    expect(s.discriminator).toEqual({ auc: r.metrics.auc, ci: r.ci.auc, perType: r.perType });
    expect(s['recon-l1'].auc).toBeCloseTo(0.25, 15);
    expect(s['recon-l1'].perType.map((t) => [t.type, t.count, t.auc])).toEqual([
      ['missing', 1, 0],
      ['swap', 1, 0.5],
    ]);
    expect(s['recon-l1-worst-cell'].auc).toBe(1);
    expect(s['recon-l1-worst-cell'].perType.map((t) => t.auc)).toEqual([1, 1]);
    const ci = bootstrapCi(
      items.map((it) => it.label),
      errors.map((e) => e[0]),
      rocAuc,
      { resamples: 200, seed: 3 },
    );
    expect(s['recon-l1'].ci).toEqual({ lower: ci.lower, upper: ci.upper });
    // the threshold and its metrics still come from the discriminator score
    expect(r.threshold.value).toBe(0.8);
    expect(evaluationReportSchema.parse(JSON.parse(JSON.stringify(r)))).toEqual(r);
  });

  it('lists only the scores every item has, refuses a partial one, and reads reports without `scores`', () => {
    const plain = evaluationReport(ITEMS, { source: 'oracle', method: 'max-f1' }, { resamples: 20 });
    expect(Object.keys(plain.scores!)).toEqual(['discriminator']);
    const partial = ITEMS.map((it, i) => (i < 3 ? { ...it, reconL1: 0.1 * i } : it));
    expect(() => evaluationReport(partial, { source: 'oracle', method: 'max-f1' })).toThrow(
      /a2\.png has no recon-l1 score but other images do/,
    );
    const { scores: _, ...older } = JSON.parse(JSON.stringify(plain));
    expect(evaluationReportSchema.parse(older).scores).toBeUndefined();
  });

  it('refuses a single-class evaluation with a clear error', () => {
    expect(() => evaluationReport(ITEMS.slice(0, 2), { source: 'oracle', method: 'max-f1' })).toThrow(
      /all 2 images are normal/,
    );
  });
});

describe('scoresCsv', () => {
  it('writes one row per image with the prediction at the threshold and the errors, quoting odd paths', () => {
    const csv = scoresCsv(
      [...ITEMS, { path: 'a,"b".png', label: 0, score: 0.2, reconL1: 0.125, reconL1WorstCell: 0.5 }],
      0.35,
    );
    expect(csv.split('\n')).toEqual([
      'path,label,type,score,prediction,recon-l1,recon-l1-worst-cell',
      'n1.png,0,,0.1,0,,',
      'n2.png,0,,0.4,1,,',
      'a1.png,1,swap,0.35,1,,',
      'a2.png,1,missing,0.8,1,,',
      '"a,""b"".png",0,,0.2,0,0.125,0.5',
      '',
    ]);
  });
});

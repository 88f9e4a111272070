import { describe, expect, it } from 'vitest';
import { planStudy, studyFlagsSchema } from './study-plan.js';
import { type StudyRow, studyMarkdown, studyResult } from './study-report.js';

const plan = planStudy(
  studyFlagsSchema.parse({
    kind: 'ablation',
    preset: 'digitanatomy',
    seeds: '0-2',
    iterations: 100,
    outRoot: '/tmp/s',
    variants: 'official,softmax,no-teacher',
  }),
);

/** A row of run `variant-seedN` with the given own-score AUC and recon-l1 AUC. */
function row(variant: string, seed: number, auc: number, l1?: number): StudyRow {
  return {
    variant,
    model: 'squid',
    seed,
    run: `/tmp/s/${variant}-seed${seed}`,
    iterations: 100,
    checkpoint: 'last',
    counts: { normal: 200, anomalous: 200 },
    score: 'discriminator',
    auc,
    averagePrecision: auc,
    accuracy: 0.5,
    f1: 0.5,
    threshold: { value: 0.4, source: 'val' },
    perType: { missing: auc },
    scores: { discriminator: auc, ...(l1 === undefined ? {} : { 'recon-l1': l1 }) },
  };
}

describe('studyResult', () => {
  it('pairs each variant with the first by seed: mean difference ± standard error, of the AUC and of the recon-l1 AUC', () => {
    const rows = [
      row('official', 0, 0.55, 0.7),
      row('official', 1, 0.6, 0.66),
      row('official', 2, 0.5, 0.68),
      // softmax: +0.01, +0.03 and −0.01 against official → mean 0.01, std 0.02, SE 0.02/√3
      row('softmax', 0, 0.56, 0.6),
      row('softmax', 1, 0.63, 0.62),
      row('softmax', 2, 0.49, 0.64),
      // no-teacher has seed 1 only so far: one pair, no standard error; no recon-l1 there
      row('no-teacher', 1, 0.5),
    ];
    const r = studyResult(plan, rows, [], 'last');
    const [official, softmax, noTeacher] = r.summary;
    expect(official.vsFirst).toBeNull();
    expect(official.reconL1?.mean).toBeCloseTo(0.68, 12);
    expect(official.reconL1?.std).toBeCloseTo(0.02, 12);
    expect(softmax.vsFirst).toMatchObject({ variant: 'official', n: 3 });
    expect(softmax.vsFirst?.mean).toBeCloseTo(0.01, 12);
    expect(softmax.vsFirst?.se).toBeCloseTo(0.02 / Math.sqrt(3), 12);
    expect(softmax.reconL1?.mean).toBeCloseTo(0.62, 12);
    // recon-l1: −0.1, −0.04, −0.04 against official → mean −0.06, std 0.02√3, SE 0.02
    expect(softmax.reconL1VsFirst).toMatchObject({ variant: 'official', n: 3 });
    expect(softmax.reconL1VsFirst?.mean).toBeCloseTo(-0.06, 12);
    expect(softmax.reconL1VsFirst?.se).toBeCloseTo(0.02, 12);
    expect(official.reconL1VsFirst).toBeNull();
    expect(noTeacher.reconL1VsFirst).toBeNull();
    expect(noTeacher.vsFirst?.mean).toBeCloseTo(-0.1, 12);
    expect(noTeacher.vsFirst?.se).toBeNaN();
    expect(noTeacher.reconL1).toBeNull();

    const md = studyMarkdown(r);
    expect(md).toContain(
      '| variant | score | seeds | AUC | ΔAUC vs official | accuracy | F1 | AUC missing | AUC recon-l1 | Δ recon-l1 vs official |',
    );
    expect(md).toContain(
      '| official | discriminator | 3 | 55.0 ± 5.0 | – | 50.0 ± 0.0 | 50.0 ± 0.0 | 55.0 ± 5.0 | 68.0 ± 2.0 | – |',
    );
    expect(md).toContain(
      '| softmax | discriminator | 3 | 56.0 ± 7.0 | +1.0 ± 1.2 | 50.0 ± 0.0 | 50.0 ± 0.0 | 56.0 ± 7.0 | 62.0 ± 2.0 | −6.0 ± 2.0 |',
    );
    expect(md).toContain('| no-teacher | discriminator | 1 | 50.0 | −10.0 | 50.0 | 50.0 | 50.0 | – | – |');
    expect(md).toContain('| softmax-seed2 | 100 | 49.0 | 50.0 | 50.0 | 49.0 | 64.0 |');
  });
});

import { describe, expect, it } from 'vitest';
import { ABLATION_VARIANTS, planStudy, STUDY_KINDS, studyFlagsSchema } from './study-plan.js';

const flags = (over: Record<string, unknown>) =>
  studyFlagsSchema.parse({
    kind: 'models',
    preset: 'digitanatomy',
    iterations: 300,
    outRoot: '/tmp/s',
    ...over,
  });

describe('planStudy', () => {
  it('models: SQUID and every baseline × seeds, one folder each, all at the same budget and batch', () => {
    const plan = planStudy(flags({ seeds: '0-2' }));
    expect(plan.variants).toEqual(['squid', 'ae', 'vae', 'memae', 'memae-squid', 'ganomaly', 'f-anogan']);
    expect(plan.runs).toHaveLength(21);
    // 300 iterations = 3 epochs of one DigitAnatomy data epoch (1,600 images / batch 16).
    expect(plan).toMatchObject({ iterations: 300, epochs: 3, iterationsPerEpoch: 100, batchSize: 16 });
    for (const run of plan.runs) {
      expect(run.out).toBe(`/tmp/s/${run.variant}-seed${run.seed}`);
      const own = run.config[run.model] as { train: Record<string, number>; preset: string };
      expect(own.preset).toBe('digitanatomy');
      expect(own.train).toMatchObject({ seed: run.seed, epochs: 3, iterationsPerEpoch: 100, batchSize: 16 });
    }
  });

  it('a budget below one data epoch is one epoch; --iterations-per-epoch splits it; a remainder is refused', () => {
    expect(planStudy(flags({ iterations: 40 }))).toMatchObject({ epochs: 1, iterationsPerEpoch: 40 });
    expect(planStudy(flags({ iterations: 40, iterationsPerEpoch: 10 }))).toMatchObject({ epochs: 4 });
    expect(() => planStudy(flags({ iterations: 250 }))).toThrow(
      '--iterations 250 is not a whole number of epochs of 100 iterations',
    );
  });

  it('--variants picks variants in the kind order and names the unknown ones', () => {
    expect(planStudy(flags({ variants: 'ae,squid' })).variants).toEqual(['squid', 'ae']);
    expect(() => planStudy(flags({ variants: 'ae,pca' }))).toThrow('--variants: pca not in study models');
    expect(() => planStudy(flags({ kind: 'robustness' }))).toThrow(
      'unknown study "robustness"; choose one of models, ablation',
    );
  });

  it('ablation: the official SQUID first, one run per variant and seed', () => {
    expect(ABLATION_VARIANTS[0]).toEqual({ name: 'official', model: 'squid' });
    const plan = planStudy(flags({ kind: 'ablation', seeds: '0,1' }));
    expect(plan.variants).toEqual([
      'official',
      'memory-matrix',
      'shared-memory',
      'softmax',
      'no-inpainting',
      'shortcut-residual',
      'shortcut-off',
      'no-teacher',
    ]);
    expect(plan.runs.map((r) => r.name).slice(0, 3)).toEqual([
      'official-seed0',
      'official-seed1',
      'memory-matrix-seed0',
    ]);
    expect(plan.runs).toHaveLength(16);
    // Each variant's config differs from the official one in its switch alone, defaults filled.
    const ablation = (name: string) =>
      (plan.runs.find((r) => r.name === name)!.config.squid as { ablation: Record<string, unknown> })
        .ablation;
    const official = ablation('official-seed0');
    expect(official).toEqual({
      memory: 'queue',
      spaceAware: true,
      addressing: 'gumbel',
      inpainting: true,
      shortcut: 'masked',
      teacher: true,
    });
    expect(ablation('memory-matrix-seed1')).toEqual({ ...official, memory: 'matrix' });
    expect(ablation('no-teacher-seed0')).toEqual({ ...official, teacher: false });
    expect(ablation('shortcut-off-seed0')).toEqual({ ...official, shortcut: 'off' });
    expect(STUDY_KINDS.map((k) => k.name)).toEqual(['models', 'ablation']);
  });
});

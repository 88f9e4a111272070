import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RunConfig } from '@squid-ad/squid';
import { describe, expect, it } from 'vitest';
import {
  ABLATION_VARIANTS,
  CONTAMINATION_FRACTIONS,
  planStudy,
  STUDY_KINDS,
  studyFlagsSchema,
} from './study-plan.js';

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
    expect(() => planStudy(flags({ kind: 'sensitivity' }))).toThrow(
      'unknown study "sensitivity"; choose one of models, ablation, contamination, robustness',
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
    expect(STUDY_KINDS.map((k) => k.name)).toEqual(['models', 'ablation', 'contamination', 'robustness']);
  });

  /** A copy of a run config without the key at `path`: what must be equal across variants. */
  const without = (config: RunConfig, path: string[]) => {
    const copy = structuredClone(config) as Record<string, unknown>;
    let at = copy;
    for (const k of path.slice(0, -1)) at = at[k] as Record<string, unknown>;
    delete at[path.at(-1)!];
    return copy;
  };

  it('contamination: clean first, then 10–50 %, each differing from the clean run in run.data.contamination alone', () => {
    const plan = planStudy(flags({ kind: 'contamination', preset: 'tiny', seeds: '0-2', iterations: 4 }));
    expect(plan.title).toMatch(/Figure 10/);
    expect(plan.variants).toEqual([
      'contamination-0',
      'contamination-10',
      'contamination-20',
      'contamination-30',
      'contamination-40',
      'contamination-50',
    ]);
    expect(plan.runs).toHaveLength(18);
    const run = (variant: string, seed: number) =>
      plan.runs.find((r) => r.variant === variant && r.seed === seed)!.config;
    const key = ['run', 'data', 'contamination'];
    CONTAMINATION_FRACTIONS.forEach((f, i) => {
      for (const seed of [0, 1, 2]) {
        const config = run(plan.variants[i], seed);
        expect(config.run.data.contamination).toBe(f);
        expect(without(config, key)).toEqual(without(run('contamination-0', seed), key));
      }
    });
    expect(run('contamination-0', 0).run.data.contamination).toBe(0);
    // Each run trains at its own seed, as in every study.
    expect((run('contamination-30', 1).squid as { train: { seed: number } }).train.seed).toBe(1);
  });

  it('robustness: official first, then slots, top-k and mask ratio, one squid.model key each', () => {
    const plan = planStudy(flags({ kind: 'robustness', seeds: '0,1' }));
    expect(plan.title).toMatch(/Figure 9/);
    expect(plan.variants).toEqual([
      'official',
      'slots-50',
      'slots-100',
      'slots-400',
      'topk-1',
      'topk-3',
      'topk-10',
      'mask-0.5',
      'mask-0.75',
      'mask-1',
    ]);
    expect(plan.runs).toHaveLength(20);
    const model = (name: string) =>
      (plan.runs.find((r) => r.name === name)!.config.squid as { model: Record<string, unknown> }).model;
    const official = model('official-seed0');
    expect(official).toMatchObject({ numSlots: 200, shrink: 5, ratio: 0.95 });
    const changed = { slots: 'numSlots', topk: 'shrink', mask: 'ratio' } as const;
    for (const run of plan.runs) {
      if (run.variant === 'official') continue;
      const [prefix, value] = run.variant.split(/-(.*)/);
      const key = changed[prefix as keyof typeof changed];
      expect(model(run.name)).toEqual({ ...official, [key]: Number(value) });
      expect(without(run.config, ['squid', 'model', key])).toEqual(
        without(plan.runs.find((r) => r.name === `official-seed${run.seed}`)!.config, [
          'squid',
          'model',
          key,
        ]),
      );
    }
    // Every value builds on the tiny preset too (16 slots in every memory: top-k 10 fits).
    const tiny = planStudy(flags({ kind: 'robustness', preset: 'tiny', iterations: 4 }));
    expect(tiny.runs).toHaveLength(10);
    const tinyModel = (tiny.runs[0].config.squid as { model: Record<string, unknown> }).model;
    expect(tinyModel).toMatchObject({ numSlots: 16, memNumSlots: 16, shrink: 5 });
  });

  it('refuses, in one line, a variant the preset cannot build', () => {
    const dir = mkdtempSync(join(tmpdir(), 'study-plan-'));
    try {
      const config = join(dir, 'small-memories.json');
      writeFileSync(config, JSON.stringify({ squid: { model: { memNumSlots: 8 } } }));
      const study = flags({ kind: 'robustness', preset: 'tiny', iterations: 4, config });
      expect(() => planStudy(study)).toThrow(
        new RegExp(
          `^study robustness: variant topk-10 cannot run on preset tiny with --config ${config}: squid\\.model\\.shrink: shrink 10 \\(Gumbel top-k\\) needs at least 10 slots in every memory; memNumSlots is 8; leave it out with --variants$`,
        ),
      );
      const rest = 'official,slots-50,topk-3,mask-0.5';
      expect(planStudy({ ...study, variants: rest }).variants).toEqual(rest.split(','));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

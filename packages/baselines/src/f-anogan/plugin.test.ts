import { initBackend, Rng, type StateEntry, tf } from '@squid-ad/backend';
import {
  checkImages,
  checkModelPlugin,
  type ModelTrainer,
  PRESET_NAMES,
  type StepPosition,
} from '@squid-ad/model-api';
import { BACKEND_VARIANTS, startVariant } from '@squid-ad/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { type FAnoGanConfig, fAnoGanPresetConfig } from './config.js';
import { FAnoGanModel } from './model.js';
import { fAnoGanPlugin } from './plugin.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** The tiny preset with `criticIters` 2, so a few steps cover a generator update and both stages. */
function shortRun(): FAnoGanConfig {
  return { ...fAnoGanPresetConfig('tiny'), criticIters: 2 };
}

const at = (iteration: number, totalIterations: number): StepPosition => ({
  epoch: 0,
  stepInEpoch: iteration,
  iteration,
  totalIterations,
});

const snapshot = (entries: StateEntry[]) => entries.map((e) => e.variable.dataSync().slice());

/** Names of the entries whose values differ between two snapshots. */
function changed(entries: StateEntry[], before: ReturnType<typeof snapshot>): Set<string> {
  const now = snapshot(entries);
  return new Set(entries.filter((_, i) => now[i].some((v, j) => v !== before[i][j])).map((e) => e.name));
}

const part = (names: Set<string>, prefix: string) => [...names].filter((n) => n.startsWith(prefix));

describe('f-AnoGAN plug-in', () => {
  it('keeps the model contract on the tiny preset', () => {
    const report = checkModelPlugin(fAnoGanPlugin, fAnoGanPlugin.presetConfig('tiny'));
    expect(report.problems).toEqual([]);
    // Two steps of a two-step run: a critic step, then an encoder step.
    expect(Object.keys(report.losses).sort()).toEqual(['d', 'gp', 'wd']);
  });

  it('gives [B, S, S, 1] reconstructions and [B] scores at every preset size', () => {
    for (const preset of PRESET_NAMES) {
      // Narrow networks: the shapes depend on the resizing, not on the width.
      const config = { ...fAnoGanPlugin.presetConfig(preset), dim: 2, zDim: 8 };
      const S = config.imageSize;
      const model = fAnoGanPlugin.create(config, 1);
      const x = checkImages(1, S);
      const { recon, raw } = model.infer(x);
      expect([preset, recon.shape]).toEqual([preset, [1, S, S, 1]]);
      expect(raw.shape).toEqual([1]);
      tf.dispose([x, recon, raw]);
      model.dispose();
    }
    // The parameter counts of the docs' table (tiny: d = 4, z = 128).
    const tiny = fAnoGanPlugin.create(fAnoGanPlugin.presetConfig('tiny'), 1);
    const count = (prefix: string) =>
      tiny
        .state()
        .filter((e) => e.kind === 'parameter' && e.name.startsWith(prefix))
        .reduce((n, e) => n + e.variable.size, 0);
    expect([count('Generator'), count('Discriminator'), count('Encoder')]).toEqual([95709, 30169, 95320]);
    tiny.dispose();
    expect(fAnoGanPlugin.presetConfig('zhanglab')).toMatchObject({ imageSize: 128, dim: 64, zDim: 128 });
    expect(fAnoGanPlugin.presetConfig('chexpert').train.iterationsPerEpoch).toBe(84);
  });

  it('stage 1 trains D every step and G every criticIters-th step, stage 2 only E; a resume across the boundary is exact', () => {
    const config = shortRun();
    const total = 6;
    const a = new FAnoGanModel(config, 3);
    const rngA = Rng.fromSeed(8);
    const ta = a.createTrainer(rngA);
    const entries = a.state();
    const x = checkImages(4, config.imageSize, 2);
    // 6 iterations, ganFraction 0.5: 0–2 WGAN-GP (G before the critic at 2), 3–5 encoder.
    const keys: string[][] = [];
    const moved: Set<string>[] = [];
    const losses: Record<string, number>[] = [];
    let b: FAnoGanModel | undefined;
    let tb: ModelTrainer | undefined;
    for (let i = 0; i < 5; i++) {
      if (i === 2) {
        // The copy: a fresh model of another seed and a fresh trainer, given A's state and Rng.
        b = new FAnoGanModel(config, 99);
        tb = b.createTrainer(Rng.fromState(rngA.getState()));
        assign(b.state(), a.state());
        assign(tb.state(), ta.state());
      }
      const before = snapshot(entries);
      losses.push(ta.step(x, at(i, total)));
      keys.push(Object.keys(losses[i]).sort());
      moved.push(changed(entries, before));
    }
    expect(keys).toEqual([
      ['d', 'gp', 'wd'],
      ['d', 'gp', 'wd'],
      ['d', 'g', 'gp', 'wd'],
      ['e', 'e_fts', 'e_img'],
      ['e', 'e_fts', 'e_img'],
    ]);
    // Step 0 (the official first outer step): the critic only.
    expect(part(moved[0], 'Generator')).toEqual([]);
    expect(part(moved[0], 'Encoder')).toEqual([]);
    expect(part(moved[0], 'Discriminator').length).toBeGreaterThan(20);
    // Step 2: G's weights and its moving statistics (one update), and the critic.
    expect(moved[2]).toContain('Generator.Input.W');
    expect(moved[2]).toContain('Generator.Res1.BN1.moving_mean');
    expect(moved[2]).toContain('Discriminator.Output.W');
    // Stage 2: E's weights and batch-norm statistics; G and D frozen, G's statistics too.
    for (const m of moved.slice(3)) {
      expect(part(m, 'Generator')).toEqual([]);
      expect(part(m, 'Discriminator')).toEqual([]);
      expect(m).toContain('Encoder.Output.W');
      expect(m).toContain('Encoder.Res2.BN1.moving_variance');
    }
    // The resumed copy: iterations 2 (G + critic), 3 and 4 (encoder), bit for bit.
    for (let i = 2; i < 5; i++) expect(tb!.step(x, at(i, total))).toEqual(losses[i]);
    const sa = snapshot(a.state());
    const sb = snapshot(b!.state());
    const differ = a.state().filter((_, i) => sa[i].some((v, j) => !Object.is(v, sb[i][j])));
    expect(differ.map((e) => e.name)).toEqual([]);
    expect(snapshot(tb!.state())).toEqual(snapshot(ta.state()));
    x.dispose();
    for (const t of [ta, tb!]) t.dispose();
    for (const m of [a, b!]) m.dispose();
  });
});

function assign(to: StateEntry[], from: StateEntry[]): void {
  expect(to.map((e) => e.name)).toEqual(from.map((e) => e.name));
  to.forEach((e, i) => {
    e.variable.assign(from[i].variable);
  });
}

describe.each(BACKEND_VARIANTS.filter((v) => v.backend === 'wasm'))(
  'f-AnoGAN training on $backend (native kernels: $nativeKernels)',
  (variant) => {
    it('takes a generator + critic step and an encoder step with finite losses', async (ctx) => {
      const unavailable = await startVariant(variant);
      if (unavailable) ctx.skip(unavailable);
      const config = { ...fAnoGanPresetConfig('tiny'), criticIters: 1 };
      const model = new FAnoGanModel(config, 3);
      const trainer = model.createTrainer(Rng.fromSeed(8));
      const x = checkImages(4, config.imageSize, 2);
      const entries = model.state();
      const before = snapshot(entries);
      // Iteration 1 of 4: G update, then the critic (second-order penalty); iteration 2: E.
      const l1 = trainer.step(x, at(1, 4));
      const l2 = trainer.step(x, at(2, 4));
      expect(Object.keys(l1).sort()).toEqual(['d', 'g', 'gp', 'wd']);
      expect(Object.keys(l2).sort()).toEqual(['e', 'e_fts', 'e_img']);
      for (const v of [...Object.values(l1), ...Object.values(l2)]) expect(Number.isFinite(v)).toBe(true);
      const m = changed(entries, before);
      for (const net of ['Generator', 'Discriminator', 'Encoder'])
        expect(part(m, net).length).toBeGreaterThan(5);
      x.dispose();
      trainer.dispose();
      model.dispose();
      await startVariant({ backend: 'cpu', nativeKernels: false });
    });
  },
);

import { tf } from '@squid-ad/backend';
import {
  BACKEND_VARIANTS,
  compare,
  type Fixture,
  fixtureTensor,
  loadFixture,
  nchwToNhwc,
  startVariant,
} from '@squid-ad/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SquidModel } from './model.js';
import { fromOfficialCheckpoint } from './official.js';

// Whole-model parity with the official PyTorch SQUID on the fixture in SQUID_FIXTURE_DIR
// (default: the repository's fixtures/squid-parity/visible). Everything comes from fixture.json, nothing is hard-coded.
const OUTPUTS_2E6 = ['out.recon', 'out.teacher_recon', 'out.patch'];

describe.each(BACKEND_VARIANTS)(
  'official parity on $backend (native kernels: $nativeKernels)',
  ({ backend, nativeKernels }) => {
    let fx: Fixture;
    // Why this variant cannot run here (the oneDNN kernels are optional), or undefined.
    let unavailable: string | undefined;
    let model: SquidModel;
    let captured: Map<string, tf.Tensor>;

    beforeAll(async () => {
      unavailable = await startVariant({ backend, nativeKernels });
      if (unavailable) return;
      fx = loadFixture();
      model = fromOfficialCheckpoint({
        weights: fx.weightsPath,
        ae: fx.json.ae_constructor,
        discriminator: fx.json.discriminator_constructor,
      });
      captured = new Map();
      const out = tf.tidy(() => {
        const x = nchwToNhwc(fixtureTensor(fx, 'input'));
        return model.generator.forward(x, { training: false, capture: captured });
      });
      tf.dispose([out.recon, out.teacherRecon, out.distLoss]);
    });

    afterAll(() => {
      for (const t of captured?.values() ?? []) t.dispose();
      model?.dispose();
    });

    it('builds the fixture configuration', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      // Optional metadata: check what the fixture states, whatever its configuration.
      const d = fx.json.derived_shapes ?? {};
      const input = fx.tensors.get('input');
      expect(model.config.model.imageSize).toBe(input?.shape[2]);
      if (fx.json.image?.img_size) expect(model.config.model.imageSize).toBe(fx.json.image.img_size);
      if (d.memory_channel) expect(model.generator.geometry.memoryChannel).toBe(d.memory_channel);
      if (d.filter_list) expect(model.generator.geometry.filters).toEqual(d.filter_list);
      if (d.disc_final_spatial) expect(model.discriminator.size).toBe(d.disc_final_spatial);
    });

    it('reproduces every generator intermediate and output', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const names = [...fx.tensors.keys()].filter((n) => n.startsWith('gen.') || n.startsWith('out.'));
      expect(names.length).toBeGreaterThan(10);
      const failures: string[] = [];
      const report: Record<string, number> = {};
      for (const name of names) {
        const ours = captured.get(name);
        if (!ours) {
          failures.push(`${name}: not produced`);
          continue;
        }
        const strict = OUTPUTS_2E6.includes(name);
        const ref = fixtureTensor(fx, name);
        const r = compare(ours, ref, strict ? 2e-6 : 1e-5, strict ? 0 : 1e-4);
        ref.dispose();
        report[name] = r.maxAbs;
        if (r.excess > 0)
          failures.push(`${name}: max |Δ| ${r.maxAbs} (at ${r.at}: ours ${r.ours}, official ${r.official})`);
      }
      if (process.env.PARITY_VERBOSE) console.log(backend, nativeKernels, JSON.stringify(report));
      expect(failures, JSON.stringify(report, null, 1)).toEqual([]);
    });

    it('reproduces the discriminator logits with running and per-image statistics', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const failures: string[] = [];
      for (const which of ['recon', 'input']) {
        const source = which === 'recon' ? 'out.recon' : 'input';
        const x = nchwToNhwc(fixtureTensor(fx, source));
        const checks: [string, tf.Tensor, number][] = [
          [`disc.logits.${which}`, model.discriminator.forward(x, { training: false }), 2e-6],
          [
            `disc_trainmode_bs1.logits.${which}`,
            model.discriminator.forward(x, { training: false, norm: 'per-image' }),
            2e-6,
          ],
          [
            `disc.features.${which}`,
            tf.transpose(model.discriminator.features(x, { stats: 'running' }), [0, 3, 1, 2]),
            1e-5,
          ],
        ];
        for (const [name, ours, atol] of checks) {
          if (!fx.tensors.has(name)) continue;
          const ref = fixtureTensor(fx, name);
          const r = compare(ours, ref, atol, atol === 2e-6 ? 0 : 1e-4);
          if (process.env.PARITY_VERBOSE) console.log(backend, name, r.maxAbs);
          if (r.excess > 0)
            failures.push(`${name}: max |Δ| ${r.maxAbs} (ours ${r.ours}, official ${r.official})`);
          tf.dispose([ours, ref]);
        }
        x.dispose();
      }
      expect(failures).toEqual([]);
    });

    it('reconstruct() (no teacher) gives the official recon', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const n = tf.memory().numTensors;
      const recon = tf.tidy(() =>
        tf.transpose(model.generator.reconstruct(nchwToNhwc(fixtureTensor(fx, 'input'))), [0, 3, 1, 2]),
      );
      const ref = fixtureTensor(fx, 'out.recon');
      expect(compare(recon, ref, 2e-6, 0).excess).toBeLessThanOrEqual(0);
      tf.dispose([recon, ref]);
      expect(tf.memory().numTensors).toBe(n);
    });

    it('eval forward leaks no tensors and changes no state', (ctx) => {
      if (unavailable) ctx.skip(unavailable);
      const stateBefore = model.generator.state().map((e) => e.variable.dataSync().slice());
      const n = tf.memory().numTensors;
      const out = tf.tidy(() =>
        model.generator.forward(nchwToNhwc(fixtureTensor(fx, 'input')), { training: false }),
      );
      tf.dispose([out.recon, out.teacherRecon, out.distLoss]);
      expect(tf.memory().numTensors).toBe(n);
      const stateAfter = model.generator.state().map((e) => e.variable.dataSync());
      for (const [i, s] of stateAfter.entries()) expect(Array.from(s)).toEqual(Array.from(stateBefore[i]));
    });
  },
);

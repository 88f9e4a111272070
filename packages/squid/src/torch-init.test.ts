import { initBackend, Rng, tf, toOfficialLayout } from '@squid-ad/backend';
import { loadFixture, toTensor } from '@squid-ad/test-utils';
import { beforeAll, describe, expect, it } from 'vitest';
import { createSquidModel } from './model.js';
import { officialStateEntries } from './official.js';
import { officialArgsToConfig } from './official-args.js';
import { initLikePyTorch } from './torch-init.js';

// The parity fixture's weights are the official initialisation for torch.manual_seed(1234)
// (AE, then SimpleDiscriminator); only BatchNorm statistics and the in-painting queues were
// changed afterwards (3 training-mode forwards).
const changedByPreparation = /running_|num_batches_tracked|inpaint_block\.memory\.\d+\.memMatrix/;

describe('initLikePyTorch', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false });
  });

  it('gives the official initial weights of the parity fixture (seed 1234) bit for bit', () => {
    const fx = loadFixture();
    const config = officialArgsToConfig(fx.json.ae_constructor, fx.json.discriminator_constructor);
    expect(fx.json.seed.torch_manual_seed).toBe(1234);
    const model = createSquidModel(config, Rng.fromSeed(99));
    initLikePyTorch(model, 1234);
    const compared: string[] = [];
    const differing: string[] = [];
    for (const e of officialStateEntries(model)) {
      if (changedByPreparation.test(e.name) || e.official === false) continue;
      const official = fx.weights.get(e.name);
      if (!official) throw new Error(`${e.name} not in the fixture`);
      const ours = tf.tidy(() => toOfficialLayout(e.layout, e.variable).dataSync());
      const theirs = toTensor(official).dataSync();
      compared.push(e.name);
      if (ours.length !== theirs.length || ours.some((v, i) => !Object.is(v, theirs[i])))
        differing.push(e.name);
    }
    expect(differing).toEqual([]);
    // Every drawn tensor kind is covered: convs, linears, attention, decoder memories, discriminator.
    for (const kind of [
      'conv1.0.weight',
      'conv1.0.bias',
      'in_proj_weight',
      'out_proj.weight',
      'ff.3.bias',
      'memory_blocks.2.memory.8.memMatrix',
      'discriminator.regressor.weight',
    ])
      expect(
        compared.some((n) => n.endsWith(kind) || n.includes(kind)),
        kind,
      ).toBe(true);
    model.dispose();
  });

  it('draws the queues too, and another seed gives other weights', () => {
    const fx = loadFixture();
    const config = officialArgsToConfig(fx.json.ae_constructor, fx.json.discriminator_constructor);
    const a = createSquidModel(config, Rng.fromSeed(1));
    const b = createSquidModel(config, Rng.fromSeed(1));
    initLikePyTorch(a, 1234);
    initLikePyTorch(b, 1235);
    const queue = (m: typeof a) => m.generator.inpaint.queues[0].memory.dataSync();
    const bound = 1 / Math.sqrt(a.generator.inpaint.dim);
    expect(Math.max(...Array.from(queue(a), Math.abs))).toBeLessThanOrEqual(bound);
    expect(Array.from(queue(a))).not.toEqual(Array.from(queue(b)));
    const w = (m: typeof a) => m.generator.encoder.state()[0].variable.dataSync();
    expect(Array.from(w(a))).not.toEqual(Array.from(w(b)));
    a.dispose();
    b.dispose();
  });
});

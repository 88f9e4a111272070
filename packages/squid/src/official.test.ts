import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, Rng, readSafetensors, type SafetensorsEntry, tf } from '@squid-ad/backend';
import { loadFixture } from '@squid-ad/test-utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSquidModel, type SquidModel } from './model.js';
import {
  fromOfficialCheckpoint,
  loadOfficialState,
  officialStateEntries,
  saveOfficialCheckpoint,
} from './official.js';
import { officialArgsToConfig } from './official-args.js';
import { presets } from './presets.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu', nativeKernels: false });
});

describe('officialArgsToConfig', () => {
  it('derives the fixture configuration from its constructor arguments', () => {
    const fx = loadFixture();
    const config = officialArgsToConfig(fx.json.ae_constructor, fx.json.discriminator_constructor);
    const kw = fx.json.ae_constructor.kwargs;
    expect(config.model.imageSize).toBe(fx.json.image.img_size);
    expect(config.model.featuresRoot).toBe(fx.json.ae_constructor.positional.features_root);
    expect(config.model.numPatch).toBe(kw.num_patch);
    expect(config.model.level).toBe(kw.level);
    expect(config.model.ops).toEqual(kw.ops);
    expect(config.model.shrink).toBe(fx.json.ae_constructor.positional.shrink_thres);
    expect(config.model.decoderMemory).toEqual(
      kw.decoder_memory.map((m: { type: string; multiplier: number; num_memory: number } | null) =>
        m ? { type: m.type, multiplier: m.multiplier, numMemory: m.num_memory } : null,
      ),
    );
    expect(config.discriminator.size).toBe(fx.json.discriminator_constructor.kwargs.size);
  });

  it('gives the official digitanatomy structure for the arguments main.py passes with digit_best.py', () => {
    const ae = {
      num_in_ch: 1,
      features_root: 32,
      shrink_thres: 5,
      num_slots: 200,
      num_patch: 3,
      level: 3,
      ratio: 0.95,
      initial_combine: 1,
      drop: 0,
      dist: true,
      memory_channel: 1024,
      mem_num_slots: 200,
      ops: ['concat', 'concat', 'none'],
      decoder_memory: [
        null,
        { type: 'MemoryMatrixBlockV3', multiplier: 256, num_memory: 9 },
        { type: 'MemoryMatrixBlockV3', multiplier: 64, num_memory: 9 },
      ],
    };
    const config = officialArgsToConfig(ae, { size: 3 });
    expect(config.model).toEqual(presets.digitanatomy.model);
  });

  it('explains arguments it cannot express', () => {
    const fx = loadFixture();
    const kwargs = { ...fx.json.ae_constructor.kwargs };
    expect(() =>
      officialArgsToConfig({ ...fx.json.ae_constructor, kwargs: { ...kwargs, dist: false } }, { size: 2 }),
    ).toThrow(/dist=False/);
    expect(() =>
      officialArgsToConfig(
        { ...fx.json.ae_constructor, kwargs: { ...kwargs, memory_channel: 65 } },
        { size: 2 },
      ),
    ).toThrow(/memory_channel 65/);
    expect(() => officialArgsToConfig(fx.json.ae_constructor, { size: 3 })).toThrow(
      /discriminator size 3 does not fit/,
    );
    expect(() =>
      officialArgsToConfig(
        {
          ...fx.json.ae_constructor,
          kwargs: {
            ...kwargs,
            decoder_memory: [null, null, { type: 'MemoryMatrixBlockV3', multiplier: 4, num_memory: 9 }],
          },
        },
        { size: 2 },
      ),
    ).toThrow(/multiplier 4 must equal 4² = 16/);
  });
});

describe('loading official weights', () => {
  let model: SquidModel;
  let weights: Map<string, SafetensorsEntry>;
  let config: ReturnType<typeof officialArgsToConfig>;

  beforeAll(() => {
    const fx = loadFixture();
    weights = readSafetensors(fx.weightsPath);
    config = officialArgsToConfig(fx.json.ae_constructor, fx.json.discriminator_constructor);
    model = fromOfficialCheckpoint({
      weights: fx.weightsPath,
      ae: fx.json.ae_constructor,
      discriminator: fx.json.discriminator_constructor,
    });
  });
  afterAll(() => model?.dispose());

  it('consumes every official tensor and fills every official entry with its value', () => {
    const entries = officialStateEntries(model).filter((e) => e.official !== false);
    expect(new Set(entries.map((e) => e.name))).toEqual(new Set(weights.keys()));
    // Spot checks in each layout: conv (OIHW → HWIO), linear ([out, in] → [in, out]), int64 counters.
    const conv = entries.find((e) => e.name === 'generator.in_conv.conv.conv1.0.weight');
    const official = weights.get('generator.in_conv.conv.conv1.0.weight') as SafetensorsEntry;
    const [o, i, kh, kw] = official.shape;
    const ours = conv?.variable.arraySync() as number[][][][];
    expect(ours[1][2][i - 1][o - 1]).toBe(
      (official.data as Float32Array)[(((o - 1) * i + (i - 1)) * kh + 1) * kw + 2],
    );
    const regressor = entries.find((e) => e.name === 'discriminator.regressor.weight');
    expect(regressor?.variable.shape).toEqual(
      [...(weights.get('discriminator.regressor.weight')?.shape ?? [])].reverse(),
    );
    const tracked = weights.get('generator.in_conv.conv.conv1.1.num_batches_tracked') as SafetensorsEntry;
    const ourTracked = entries.find((e) => e.name === 'generator.in_conv.conv.conv1.1.num_batches_tracked');
    expect(ourTracked?.variable.dataSync()[0]).toBe(Number((tracked.data as BigInt64Array)[0]));
    expect(Number((tracked.data as BigInt64Array)[0])).toBeGreaterThan(0);
  });

  it('rejects a tampered map, listing missing and unexpected names and shape mismatches', () => {
    const tampered = new Map(weights);
    tampered.delete('generator.inpaint_block.attention.in_proj_bias');
    tampered.delete('discriminator.regressor.bias');
    tampered.set('generator.extra.weight', { dtype: 'F32', shape: [1], data: new Float32Array(1) });
    const w = weights.get('generator.out_conv.conv.weight') as SafetensorsEntry;
    tampered.set('generator.out_conv.conv.weight', { ...w, shape: [1, w.shape[1] / 2, 2, 1] });
    const target = createSquidModel(config, Rng.fromSeed(3));
    const before = target.generator.state().map((e) => e.variable.dataSync().slice());
    let message = '';
    try {
      loadOfficialState(target, tampered, 'tampered.safetensors');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/^tampered\.safetensors: official weights do not fit the model/);
    expect(message).toMatch(
      /missing from the file \(2\):\n {4}generator\.inpaint_block\.attention\.in_proj_bias\n {4}discriminator\.regressor\.bias/,
    );
    expect(message).toMatch(/unexpected in the file \(1\):\n {4}generator\.extra\.weight/);
    expect(message).toMatch(
      /shape mismatches \(1\):\n {4}generator\.out_conv\.conv\.weight: file \[1,4,2,1\] vs model \[1,8,1,1\]/,
    );
    // Nothing was assigned: loading is all or nothing.
    const after = target.generator.state().map((e) => e.variable.dataSync());
    for (const [i, a] of after.entries()) expect(Array.from(a)).toEqual(Array.from(before[i]));
    target.dispose();
  });

  it('names the file when it cannot be read, allocating nothing', () => {
    const fx = loadFixture();
    const before = tf.memory().numTensors;
    expect(() =>
      fromOfficialCheckpoint({
        weights: '/nonexistent/model.safetensors',
        ae: fx.json.ae_constructor,
        discriminator: fx.json.discriminator_constructor,
      }),
    ).toThrow(/\/nonexistent\/model\.safetensors/);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('writes back exactly the official tensors it loaded, in the official names and layouts', () => {
    const dir = mkdtempSync(join(tmpdir(), 'squid-official-'));
    try {
      const before = tf.memory().numTensors;
      saveOfficialCheckpoint(model, join(dir, 'squid.safetensors'));
      expect(tf.memory().numTensors).toBe(before);
      const written = readSafetensors(join(dir, 'squid.safetensors'));
      expect(new Set(written.keys())).toEqual(new Set(weights.keys()));
      for (const [name, official] of weights) {
        const ours = written.get(name) as SafetensorsEntry;
        expect(ours.shape, name).toEqual(official.shape);
        // Bit for bit, int64 counters included.
        expect(Array.from(ours.data, Number), name).toEqual(Array.from(official.data, Number));
      }
      // And it loads back into a model that then holds the same state.
      const again = fromOfficialCheckpoint({
        weights: join(dir, 'squid.safetensors'),
        ae: loadFixture().json.ae_constructor,
        discriminator: loadFixture().json.discriminator_constructor,
      });
      const a = officialStateEntries(again);
      for (const [i, e] of officialStateEntries(model).entries()) {
        if (e.official === false) continue;
        expect(a[i].name).toBe(e.name);
        expect(Array.from(a[i].variable.dataSync()), e.name).toEqual(Array.from(e.variable.dataSync()));
      }
      again.dispose();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

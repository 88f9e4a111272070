import { describe, expect, it } from 'vitest';
import { modelGeometry, parseSquidConfig, squidConfigSchema, structureProblems } from './config.js';
import { getPreset, presets } from './presets.js';

describe('squidConfigSchema', () => {
  it('fills every default with the DigitAnatomy recipe', () => {
    const c = squidConfigSchema.parse({});
    expect(c.model).toMatchObject({
      imageSize: 96,
      numPatch: 3,
      level: 3,
      initialCombine: 1,
      featuresRoot: 32,
      shrink: 5,
    });
    expect(c.loss).toEqual({ recon: 1, teacher: 0.01, dist: 0.001, g: 0.005, d: 0.005 });
    expect(c.optimizer.g).toEqual({ lr: 1e-4, betas: [0.5, 0.999], eps: 1e-7, weightDecay: 1e-5 });
    expect(c.optimizer.d).toEqual({ lr: 1e-4, betas: [0.5, 0.999], eps: 1e-8, weightDecay: 0 });
    expect(c.schedule).toEqual({ tMax: 300, minLrFactor: 0.01 });
    expect(c.train).toMatchObject({ nCritic: 1, batchSize: 16, epochs: 200 });
  });

  it('has the reference presets', () => {
    expect(presets.zhanglab.model).toMatchObject({
      imageSize: 128,
      numPatch: 2,
      level: 4,
      initialCombine: 2,
    });
    expect(presets.zhanglab.loss.recon).toBe(10);
    expect(presets.zhanglab.schedule.minLrFactor).toBe(0.1);
    expect(presets.chexpert.schedule.minLrFactor).toBe(0.5);
    expect(presets.chexpert.train).toMatchObject({ nCritic: 2, iterationsPerEpoch: 84 });
    expect(presets.digitanatomy.data.augmentation).toEqual({
      kind: 'random-resized-crop',
      scale: [0.6, 1.3],
    });
    expect(presets.tiny.data.augmentation).toEqual({ kind: 'random-resized-crop', scale: [0.6, 1.3] });
    expect(presets.zhanglab.data.augmentation).toEqual({
      kind: 'affine',
      translate: 0.05,
      scaleMin: 0.95,
      scaleMax: 1.05,
    });
    for (const p of Object.values(presets)) expect(structureProblems(p.model)).toEqual([]);
  });

  it('derives the official memory_channel of each preset', () => {
    expect(modelGeometry(presets.digitanatomy.model).memoryChannel).toBe(1024);
    expect(modelGeometry(presets.zhanglab.model).memoryChannel).toBe(2048);
    expect(modelGeometry(presets.tiny.model).memoryChannel).toBe(64);
    expect(modelGeometry(presets.zhanglab.model).stitched).toEqual([true, true, false, false, false]);
  });

  it('getPreset returns an independent copy and names unknown presets', () => {
    const p = getPreset('tiny');
    p.model.imageSize = 1;
    expect(presets.tiny.model.imageSize).toBe(48);
    expect(() => getPreset('nope')).toThrow(
      /unknown preset "nope"; choose one of digitanatomy, zhanglab, chexpert, tiny/,
    );
  });

  it('lists every structural problem with its path', () => {
    const bad = {
      model: {
        imageSize: 50,
        ops: ['concat', 'none'],
      },
    };
    expect(() => parseSquidConfig(bad, 'my.json')).toThrow(
      /my\.json: invalid SQUID config\n {2}model: ops has 2 entries, level is 3\n {2}model: imageSize 50 is not divisible by numPatch 3/,
    );
    const wrongMemory = {
      model: {
        decoderMemory: [null, { type: 'MemoryMatrixBlock', multiplier: 32, numMemory: 4 }, null],
      },
    };
    expect(() => parseSquidConfig(wrongMemory)).toThrow(
      /decoderMemory\[1\] \(MemoryMatrixBlock\): multiplier 32 must equal the window size² = 64/,
    );
    expect(() => parseSquidConfig({ model: { level: 6 } })).toThrow(/model\.level/);
  });

  it('refuses a Gumbel top-k larger than a memory it reads; softmax and hard shrinkage need no slots', () => {
    expect(() => parseSquidConfig({ model: { shrink: 10, numSlots: 8 } }, 'c.json')).toThrow(
      /c\.json: invalid SQUID config\n {2}model\.shrink: shrink 10 \(Gumbel top-k\) needs at least 10 slots in every memory; numSlots is 8$/,
    );
    expect(() => parseSquidConfig({ model: { shrink: 10, memNumSlots: 9 } })).toThrow(/memNumSlots is 9/);
    expect(parseSquidConfig({ model: { shrink: 16, numSlots: 16, memNumSlots: 16 } }).model.shrink).toBe(16);
    expect(parseSquidConfig({ model: { shrink: 10.5, numSlots: 8 } }).model.shrink).toBe(10.5);
    expect(
      parseSquidConfig({ model: { shrink: 10, numSlots: 8 }, ablation: { addressing: 'softmax' } }).model
        .numSlots,
    ).toBe(8);
  });

  it('defaults the DigitAnatomy augmentation to the official crop and checks its range', () => {
    expect(parseSquidConfig({}).data.augmentation).toEqual({
      kind: 'random-resized-crop',
      scale: [0.6, 1.3],
    });
    expect(
      parseSquidConfig({ data: { augmentation: { kind: 'random-resized-crop' } } }).data.augmentation,
    ).toEqual({ kind: 'random-resized-crop', scale: [0.6, 1.3] });
    expect(() =>
      parseSquidConfig(
        { data: { augmentation: { kind: 'random-resized-crop', scale: [1.3, 0.6] } } },
        'c.json',
      ),
    ).toThrow(
      /c\.json: invalid SQUID config\n {2}data\.augmentation\.scale: the first bound must not exceed/,
    );
    // The old centred-scale kind is gone: a config naming it is refused at data.augmentation.kind.
    expect(() =>
      parseSquidConfig({ data: { augmentation: { kind: 'digit-scale', min: 0.6, max: 1.3 } } }),
    ).toThrow(/data\.augmentation\.kind/);
  });
});

import { initBackend, Rng, type StateEntry, tf } from '@squid-ad/backend';
import { checkImages, checkModelPlugin } from '@squid-ad/model-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AblationConfig, parseSquidConfig, type SquidConfig } from './config.js';
import { createSquidModel, type SquidModel } from './model.js';
import { getPreset, presets } from './presets.js';
import { squidModel } from './squid-plugin.js';

// The component study (issue #30): every switch really removes or replaces its component, each
// switched model trains, and the default config is the official model (see the parity tests).

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** The tiny preset (48 px, 3×3 patches, widths 8…128) with batch 2 and the given ablation. */
function tiny(ablation: Partial<AblationConfig> = {}): SquidConfig {
  const config = getPreset('tiny');
  config.train.batchSize = 2;
  return parseSquidConfig({ ...config, ablation: { ...config.ablation, ...ablation } });
}

const sum = (entries: StateEntry[]) => entries.reduce((n, e) => n + e.variable.size, 0);
const params = (m: SquidModel) => sum(m.generator.state().filter((e) => e.kind === 'parameter'));
const names = (m: SquidModel) => m.generator.state().map((e) => e.name);

// Tiny geometry: bottleneck C = 64 at 2×2 per patch, in-painting vectors D = (C/4)·2·2 = 64,
// 16 queue slots, 9 positions; decoder memories (V3, 16 slots) at level 1 (16 ch × 8², D = 1024)
// and level 2 (32 ch × 4², D = 512).
const C = 64;
const D = 64;
const SLOTS = 16;
const POSITIONS = 9;
const DECODER_DIMS = [1024, 512];

const models: SquidModel[] = [];
/** A tiny model built from an Rng (no PyTorch initialisation: structure tests only). */
function build(ablation: Partial<AblationConfig> = {}): SquidModel {
  const model = createSquidModel(tiny(ablation), Rng.fromSeed(1));
  models.push(model);
  return model;
}
afterAll(() => {
  for (const m of models) m.dispose();
});

describe('ablation config', () => {
  it('defaults to the official model, in every preset and in a config without the key', () => {
    const official = {
      memory: 'queue',
      spaceAware: true,
      addressing: 'gumbel',
      inpainting: true,
      shortcut: 'masked',
      teacher: true,
    };
    expect(parseSquidConfig({}).ablation).toEqual(official);
    for (const p of Object.values(presets)) expect(p.ablation).toEqual(official);
  });

  it('refuses combinations without meaning, naming the keys', () => {
    const bad =
      (ablation: object, model: object = {}) =>
      () =>
        parseSquidConfig({ ablation, model }, 'study.json');
    expect(bad({ inpainting: false, memory: 'matrix' })).toThrow(
      /ablation\.memory: ablation\.memory 'matrix' has no meaning with ablation\.inpainting false/,
    );
    expect(bad({ inpainting: false, shortcut: 'residual' })).toThrow(
      /ablation\.shortcut: .*ablation\.inpainting false/,
    );
    expect(bad({ inpainting: false, shortcut: 'off' })).toThrow(/ablation\.shortcut 'off'/);
    const noDecoderMemory = { decoderMemory: [null, null, null] };
    expect(bad({ inpainting: false, spaceAware: false }, noDecoderMemory)).toThrow(
      /ablation\.spaceAware false has no meaning with ablation\.inpainting false and no model\.decoderMemory/,
    );
    expect(bad({ inpainting: false, addressing: 'softmax' }, noDecoderMemory)).toThrow(
      /ablation\.addressing 'softmax' has no meaning/,
    );
    // …but with decoder memories the same two switches still change something.
    expect(bad({ inpainting: false, spaceAware: false, addressing: 'softmax' })).not.toThrow();
    expect(bad({ memory: 'stack' })).toThrow(/ablation\.memory/);
    expect(bad({ teacher: 'no' })).toThrow(/ablation\.teacher/);
    expect(bad({ teachr: false })).toThrow(/teachr.*teacher/s);
  });
});

describe('each switch removes or replaces its component (tiny)', () => {
  let official: SquidModel;
  beforeAll(() => {
    official = build();
  });

  it('memory matrix: P²·slots·D more parameters, no queue buffers or pointers', () => {
    const m = build({ memory: 'matrix' });
    expect(params(m) - params(official)).toBe(POSITIONS * SLOTS * D);
    const memory = m.generator.state().filter((e) => e.name.startsWith('inpaint_block.memory.'));
    expect(memory.map((e) => `${e.name}:${e.kind}`)).toEqual(
      Array.from({ length: POSITIONS }, (_, i) => `inpaint_block.memory.${i}.memMatrix:parameter`),
    );
    expect(m.generator.inpaint.queues).toHaveLength(0);
    expect(names(official)).toContain('inpaint_block.memory.0.ptr');
  });

  it('shared memory: one in-painting queue and one memory per decoder block', () => {
    const m = build({ spaceAware: false });
    const shrunk = (POSITIONS - 1) * SLOTS * DECODER_DIMS.reduce((a, b) => a + b, 0);
    expect(params(official) - params(m)).toBe(shrunk);
    const memoryNames = names(m).filter((n) => /memory\.\d+\.(memMatrix|ptr)$/.test(n));
    expect(memoryNames).toEqual([
      'inpaint_block.memory.0.memMatrix',
      'inpaint_block.memory.0.ptr',
      'memory_blocks.1.memory.0.memMatrix',
      'memory_blocks.2.memory.0.memMatrix',
    ]);
    // Read by every patch: each row of the batch gets an address into the same memory.
    const cap = new Map<string, tf.Tensor>();
    tf.tidy(() => m.generator.forward(checkImages(2, 48), { training: false, capture: cap }).recon);
    expect(cap.get('gen.inpaint_block.queue_attention')?.shape).toEqual([2, POSITIONS, SLOTS]);
    expect(cap.get('gen.memory_blocks.1.attention')?.shape).toEqual([2, POSITIONS, SLOTS]);
    tf.dispose([...cap.values()]);
  });

  it('softmax addressing: same parameters, every memory read dense instead of top-k', () => {
    const m = build({ addressing: 'softmax' });
    expect(params(m)).toBe(params(official));
    const nonZeroPerRow = (model: SquidModel) => {
      const cap = new Map<string, tf.Tensor>();
      tf.tidy(() => model.generator.forward(checkImages(2, 48), { training: false, capture: cap }).recon);
      const counts = [
        'gen.inpaint_block.queue_attention',
        'gen.memory_blocks.1.attention',
        'gen.memory_blocks.2.attention',
      ].map((name) => {
        const a = cap.get(name) as tf.Tensor;
        const rows = a.reshape([-1, SLOTS]).arraySync() as number[][];
        for (const r of rows) expect(r.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 5);
        return new Set(rows.map((r) => r.filter((v) => v > 0).length));
      });
      tf.dispose([...cap.values()]);
      return counts;
    };
    // Gumbel top-5 keeps the 4 entries above the 5th largest; softmax keeps all 16.
    expect(nonZeroPerRow(official)).toEqual([new Set([4]), new Set([4]), new Set([4])]);
    expect(nonZeroPerRow(m)).toEqual([new Set([SLOTS]), new Set([SLOTS]), new Set([SLOTS])]);
  });

  it('no in-painting block: its parameters are gone and the bottleneck is the decoder input', () => {
    const m = build({ inpainting: false });
    const inner = C / 4;
    const bits = 4; // ⌊log2 9⌋ + 1
    const block =
      C * inner + // bottleneck_conv1 (no bias)
      2 * inner + // its BatchNorm
      (3 * D * D + 3 * D) + // attention in_proj
      (D * D + D) + // attention out_proj
      2 * D + // attn_norm1
      (D * (D / 4) + D / 4) + // ff.0
      ((D / 4) * D + D) + // ff.3
      2 * D + // attn_norm2
      ((inner + bits) * C + C) + // bottleneck_conv2
      2 * C; // its BatchNorm
    expect(params(official) - params(m)).toBe(block);
    expect(names(m).some((n) => n.startsWith('inpaint_block.'))).toBe(false);
    expect(m.generator.inpaintBlock).toBeNull();
    const cap = new Map<string, tf.Tensor>();
    tf.tidy(() => m.generator.forward(checkImages(2, 48), { training: false, capture: cap }).recon);
    expect([...cap.keys()].filter((k) => k.startsWith('gen.inpaint_block'))).toEqual([]);
    tf.dispose([...cap.values()]);
  });

  it('no teacher: the teacher decoder (as large as the student decoder) is gone, forward has no teacher terms', () => {
    const m = build({ teacher: false });
    const student = sum(
      official.generator
        .state()
        .filter((e) => e.kind === 'parameter' && /^(up_blocks|out_conv)\./.test(e.name)),
    );
    const teacher = sum(
      official.generator.state().filter((e) => e.kind === 'parameter' && e.name.startsWith('teacher_')),
    );
    expect(teacher).toBe(student);
    expect(params(official) - params(m)).toBe(teacher);
    expect(names(m).filter((n) => n.startsWith('teacher_'))).toEqual([]);
    const x = checkImages(2, 48);
    const out = m.generator.forwardParts(x, { training: true, rng: Rng.fromSeed(2) });
    expect(Object.keys(out)).toEqual(['recon']);
    out.recon.dispose();
    expect(() => m.generator.forward(x, { training: false })).toThrow(/ablation\.teacher is false/);
    x.dispose();
  });

  it('shortcut residual/off: the in-painting block draws no mask (only the decoder memories do)', () => {
    const maskShapes = (model: SquidModel) => {
      const shapes: number[][] = [];
      tf.tidy(() =>
        model.generator.forward(checkImages(2, 48), {
          training: true,
          rng: Rng.fromSeed(2),
          masks: (shape) => {
            shapes.push(shape);
            return tf.ones(shape);
          },
        }),
      );
      return shapes;
    };
    // Official: the in-painting shortcut (bottleneck rows 2·9, 2×2) then the two decoder memories
    // (level 2 at 4×4 per patch first, then level 1 at 8×8).
    expect(maskShapes(official)).toEqual([
      [18, 2, 2, 1],
      [18, 4, 4, 1],
      [18, 8, 8, 1],
    ]);
    expect(maskShapes(build({ shortcut: 'residual' }))).toEqual([
      [18, 4, 4, 1],
      [18, 8, 8, 1],
    ]);
    expect(maskShapes(build({ shortcut: 'off' }))).toEqual([
      [18, 4, 4, 1],
      [18, 8, 8, 1],
    ]);
  });

  it('shortcut off: the eval reconstruction does not depend on the shortcut path', () => {
    // Same weights for all three (the shortcut has none; fresh models: the earlier training
    // forwards moved `official`'s BatchNorm statistics); eval uses the in-painted value only in
    // both the official block and `off`, `residual` adds the bottleneck.
    const [masked, off, residual] = [build(), build({ shortcut: 'off' }), build({ shortcut: 'residual' })];
    const x = checkImages(2, 48);
    const recon = (m: SquidModel) => tf.tidy(() => m.generator.reconstruct(x).arraySync());
    expect(recon(off)).toEqual(recon(masked));
    expect(recon(residual)).not.toEqual(recon(masked));
    x.dispose();
  });
});

describe('a training step of each switched model (tiny, via the plug-in)', () => {
  const step = (ablation: Partial<AblationConfig>) => ({ instance: squidModel.create(tiny(ablation), 3) });

  it('official: the queues are written after the step (pointer advances, buffer changes)', () => {
    const { instance } = step({});
    const before = new Map(instance.state().map((e) => [e.name, e.variable.dataSync().slice()]));
    const trainer = instance.createTrainer(Rng.fromSeed(5));
    trainer.setEpoch(0);
    const x = checkImages(2, 48);
    trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 1 });
    const after = new Map(instance.state().map((e) => [e.name, e.variable.dataSync()]));
    expect(after.get('generator.inpaint_block.memory.0.ptr')?.[0]).toBe(2);
    const rowChanged = (name: string, row: number) =>
      before
        .get(name)
        ?.slice(row * D, (row + 1) * D)
        .some((v, i) => v !== after.get(name)?.[row * D + i]);
    expect(rowChanged('generator.inpaint_block.memory.0.memMatrix', 0)).toBe(true);
    expect(rowChanged('generator.inpaint_block.memory.0.memMatrix', 2)).toBe(false);
    trainer.dispose();
    instance.dispose();
    x.dispose();
  });

  it('memory matrix: no queue write; the memory moves by an optimizer step only', () => {
    const { instance } = step({ memory: 'matrix' });
    const name = 'generator.inpaint_block.memory.0.memMatrix';
    const find = () => instance.state().find((e) => e.name === name) as StateEntry;
    expect(instance.state().some((e) => e.name.endsWith('.ptr'))).toBe(false);
    const before = find().variable.dataSync().slice();
    const trainer = instance.createTrainer(Rng.fromSeed(5));
    trainer.setEpoch(0);
    const x = checkImages(2, 48);
    trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 1 });
    const after = find().variable.dataSync();
    const delta = Math.max(...after.map((v, i) => Math.abs(v - before[i])));
    // Trained (Adam moves every entry with a gradient by about lr = 1e-4), never overwritten by features.
    expect(delta).toBeGreaterThan(0);
    expect(delta).toBeLessThan(2e-4);
    trainer.dispose();
    instance.dispose();
    x.dispose();
  });

  it('no teacher: the losses have no teacher or dist terms', () => {
    const { instance } = step({ teacher: false });
    const trainer = instance.createTrainer(Rng.fromSeed(5));
    trainer.setEpoch(0);
    const x = checkImages(2, 48);
    const losses = trainer.step(x, { epoch: 0, stepInEpoch: 0, iteration: 0, totalIterations: 1 });
    expect(Object.keys(losses)).toEqual(['d', 'g', 'recon', 'adv']);
    trainer.dispose();
    instance.dispose();
    x.dispose();
  });

  const variants: [string, Partial<AblationConfig>][] = [
    ['memory matrix', { memory: 'matrix' }],
    ['shared memory', { spaceAware: false }],
    ['softmax addressing', { addressing: 'softmax' }],
    ['no in-painting block', { inpainting: false }],
    ['residual shortcut', { shortcut: 'residual' }],
    ['no shortcut', { shortcut: 'off' }],
    ['no teacher', { teacher: false }],
  ];
  it.each(variants)('%s keeps the plug-in contract: finite losses, no leaked tensors', (_, ablation) => {
    const report = checkModelPlugin(squidModel, tiny(ablation), 1);
    expect(report.problems).toEqual([]);
    expect(Object.values(report.losses).every(Number.isFinite)).toBe(true);
    const expected =
      ablation.teacher === false ? ['d', 'g', 'recon', 'adv'] : ['d', 'g', 'recon', 'teacher', 'dist', 'adv'];
    expect(Object.keys(report.losses)).toEqual(expected);
  });
});

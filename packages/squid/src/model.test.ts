import type { StateEntry } from '@squid-ad/backend';
import { initBackend, Rng, stopGradient, tf } from '@squid-ad/backend';
import { bceWithLogits, mse } from '@squid-ad/gan-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseSquidConfig } from './config.js';
import { createSquidModel, type SquidModel } from './model.js';
import { officialArgsToConfig } from './official-args.js';
import { presets } from './presets.js';

// The tiny structure (3×3 patches, 3 levels, V3 decoder memories) at 24 px and widths 4..64:
// the cpu backend's conv gradients are slow, this keeps a full step to a few seconds.
const micro = parseSquidConfig({
  ...presets.tiny,
  preset: 'micro',
  model: {
    ...presets.tiny.model,
    imageSize: 24,
    featuresRoot: 4,
    decoderMemory: [
      null,
      { type: 'MemoryMatrixBlockV3', multiplier: 16, numMemory: 9 },
      { type: 'MemoryMatrixBlockV3', multiplier: 4, numMemory: 9 },
    ],
  },
});

beforeAll(async () => {
  await initBackend({ backend: 'cpu', nativeKernels: false });
});

const countParameters = (entries: StateEntry[]) =>
  entries.filter((e) => e.kind === 'parameter').reduce((n, e) => n + e.variable.size, 0);

/** One official `gan_train` iteration: D step on a fresh forward, then G step; returns the losses. */
function trainingStep(model: SquidModel, x: tf.Tensor4D, rng: Rng) {
  const { generator: g, discriminator: d, config } = model;
  const w = config.loss;
  const dVars = d
    .state()
    .filter((e) => e.kind === 'parameter')
    .map((e) => e.variable);
  const gVars = g
    .state()
    .filter((e) => e.kind === 'parameter')
    .map((e) => e.variable);
  const fake = tf.tidy(() => {
    const out = g.forward(x, { training: true, rng });
    return stopGradient(out.recon);
  });
  const dStep = tf.variableGrads(() => {
    const real = d.forward(x, { training: true });
    const fakeLogits = d.forward(fake, { training: true });
    return tf.mul(tf.add(bceWithLogits(real, 1), bceWithLogits(fakeLogits, 0)), w.d) as tf.Scalar;
  }, dVars);
  fake.dispose();
  const gStep = tf.variableGrads(() => {
    const out = g.forward(x, { training: true, rng });
    const adversarial = bceWithLogits(d.forward(out.recon, { training: true }), 1);
    return tf.addN([
      tf.mul(mse(out.recon, x), w.recon),
      tf.mul(adversarial, w.g),
      tf.mul(mse(out.teacherRecon, x), w.teacher),
      tf.mul(out.distLoss, w.dist),
    ]) as tf.Scalar;
  }, gVars);
  g.updateMemory();
  return { dStep, gStep };
}

describe('parameter counts of the official presets', () => {
  it.each([
    ['digitanatomy', 52_878_978, 681_025],
    ['zhanglab', 44_469_506, 681_921],
  ] as const)('%s: generator %i, discriminator %i trainable parameters', (name, gCount, dCount) => {
    const before = tf.memory().numTensors;
    const model = createSquidModel(presets[name], Rng.fromSeed(1));
    expect(countParameters(model.generator.state())).toBe(gCount);
    expect(countParameters(model.discriminator.state())).toBe(dCount);
    model.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('SquidGenerator on a micro DigitAnatomy structure (cpu)', () => {
  const x = () => tf.tidy(() => tf.randomUniform([2, 24, 24, 1], 0, 1, 'float32', 7) as tf.Tensor4D);

  it('has the official state names, with official=false only on queue pointers', () => {
    const model = createSquidModel(micro, Rng.fromSeed(1));
    const names = model.generator.state().map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('in_conv.conv.conv1.0.weight');
    expect(names).toContain('down_blocks.2.mpconv.conv2.4.running_var');
    expect(names).toContain('inpaint_block.attention.in_proj_weight');
    expect(names).toContain('memory_blocks.1.memory.8.memMatrix');
    expect(names).toContain('teacher_out.conv.bias');
    const unofficial = model.generator.state().filter((e) => e.official === false);
    for (const e of unofficial) expect(e.name).toMatch(/^inpaint_block\.memory\.\d+\.ptr$/);
    expect(model.discriminator.state().map((e) => e.name)).toContain('conv_model.12.num_batches_tracked');
    model.dispose();
  });

  it('keeps the teacher from training the encoder', () => {
    const model = createSquidModel(micro, Rng.fromSeed(2));
    const input = x();
    const g = model.generator;
    const encoderVars = g.encoder.state().filter((e) => e.kind === 'parameter');
    const teacherVars = g.teacher.state().filter((e) => e.kind === 'parameter');
    const { grads, value } = tf.variableGrads(
      () => mse(g.forward(input, { training: true, rng: Rng.fromSeed(3) }).teacherRecon, input),
      [...encoderVars, ...teacherVars].map((e) => e.variable),
    );
    const norm = (entries: StateEntry[]) =>
      entries.reduce((s, e) => s + tf.tidy(() => tf.sum(tf.abs(grads[e.variable.name])).dataSync()[0]), 0);
    expect(norm(encoderVars)).toBe(0);
    expect(norm(teacherVars)).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    input.dispose();
    model.dispose();
  });

  it('is reproducible for a seed and eval does not depend on it', () => {
    const a = createSquidModel(micro, Rng.fromSeed(5));
    const b = createSquidModel(micro, Rng.fromSeed(5));
    const input = x();
    const ra = a.generator.forward(input, { training: true, rng: Rng.fromSeed(9) });
    const rb = b.generator.forward(input, { training: true, rng: Rng.fromSeed(9) });
    expect(Array.from(ra.recon.dataSync())).toEqual(Array.from(rb.recon.dataSync()));
    expect(ra.distLoss.dataSync()[0]).toBe(rb.distLoss.dataSync()[0]);
    const ea = a.generator.forward(input, { training: false });
    expect(ea.recon.shape).toEqual([2, 24, 24, 1]);
    expect(ea.teacherRecon.shape).toEqual([2, 24, 24, 1]);
    const min = tf.min(ea.recon).dataSync()[0];
    const max = tf.max(ea.recon).dataSync()[0];
    expect(min).toBeGreaterThan(0);
    expect(max).toBeLessThan(1);
    // Scoring's reconstruct() (no teacher decoder) is the eval forward's recon, bit for bit.
    const reconstructed = a.generator.reconstruct(input);
    expect(Array.from(reconstructed.dataSync())).toEqual(Array.from(ea.recon.dataSync()));
    reconstructed.dispose();
    tf.dispose([
      ra.recon,
      ra.teacherRecon,
      ra.distLoss,
      rb.recon,
      rb.teacherRecon,
      rb.distLoss,
      ea.recon,
      ea.teacherRecon,
      ea.distLoss,
    ]);
    input.dispose();
    a.dispose();
    b.dispose();
  });

  it('enqueues the last training forward into the in-painting queues on updateMemory', () => {
    const model = createSquidModel(micro, Rng.fromSeed(1));
    const input = x();
    const ptr = () =>
      model.generator
        .state()
        .find((e) => e.name === 'inpaint_block.memory.0.ptr')
        ?.variable.dataSync()[0];
    expect(ptr()).toBe(0);
    const out = model.generator.forward(input, { training: true, rng: Rng.fromSeed(1) });
    tf.dispose([out.recon, out.teacherRecon, out.distLoss]);
    model.generator.updateMemory();
    expect(ptr()).toBe(2);
    input.dispose();
    model.dispose();
  });

  it('rejects inputs of the wrong size and training without an Rng', () => {
    const model = createSquidModel(micro, Rng.fromSeed(1));
    const wrong = tf.zeros([1, 32, 32, 1]) as tf.Tensor4D;
    expect(() => model.generator.forward(wrong, { training: false })).toThrow(/expected \[B, 24, 24, 1\]/);
    const input = x();
    expect(() => model.generator.forward(input, { training: true })).toThrow(/rng/);
    tf.dispose([wrong, input]);
    model.dispose();
  });
});

describe('ZhangLab structure (2×2 patches, 4 levels, window memories) at micro size', () => {
  it('converts the official arguments and runs eval and training forwards', () => {
    const config = officialArgsToConfig(
      {
        positional: { num_in_ch: 1, features_root: 4, shrink_thres: 5 },
        kwargs: {
          num_slots: 8,
          num_patch: 2,
          level: 4,
          ratio: 0.95,
          initial_combine: 2,
          drop: 0,
          dist: true,
          memory_channel: 64,
          mem_num_slots: 8,
          ops: ['concat', 'concat', 'none', 'none'],
          decoder_memory: [
            null,
            null,
            { type: 'MemoryMatrixBlock', multiplier: 16, num_memory: 4 },
            { type: 'MemoryMatrixBlock', multiplier: 4, num_memory: 4 },
          ],
        },
      },
      { size: 2 },
    );
    expect(config.model.imageSize).toBe(64);
    const model = createSquidModel(config, Rng.fromSeed(1));
    const names = model.generator.state().map((e) => e.name);
    expect(names).toContain('memory_blocks.3.memory.3.memMatrix');
    expect(names).not.toContain('memory_blocks.1.memory.0.memMatrix');
    const x = tf.randomUniform([2, 64, 64, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const capture = new Map<string, tf.Tensor>();
    const out = model.generator.forward(x, { training: false, capture });
    expect(out.recon.shape).toEqual([2, 64, 64, 1]);
    // Stitched skips for levels 0, 1; the decoder stitches before step 2 (the 32×32 map of level 1).
    expect(capture.get('gen.up_blocks.1')?.shape).toEqual([8, 16, 8, 8]);
    expect(capture.get('gen.up_blocks.2')?.shape).toEqual([2, 8, 32, 32]);
    expect(capture.get('gen.memory_blocks.3.attention')?.shape).toEqual([8, 4, 8]);
    const train = model.generator.forward(x, { training: true, rng: Rng.fromSeed(2) });
    expect(Number.isFinite(train.distLoss.dataSync()[0])).toBe(true);
    tf.dispose([
      out.recon,
      out.teacherRecon,
      out.distLoss,
      train.recon,
      train.teacherRecon,
      train.distLoss,
      ...capture.values(),
    ]);
    model.generator.updateMemory();
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    model.dispose();
  });
});

describe('full training steps on wasm', () => {
  beforeAll(async () => {
    await initBackend({ backend: 'wasm', nativeKernels: false });
  });
  const x = (size: number) =>
    tf.tidy(() => tf.randomUniform([2, size, size, 1], 0, 1, 'float32', 7) as tf.Tensor4D);

  it('micro structure: G and D steps reach every parameter and leak nothing', () => {
    const model = createSquidModel(micro, Rng.fromSeed(1));
    const input = x(24);
    const before = tf.memory().numTensors;
    for (let step = 0; step < 2; step++) {
      const rng = Rng.fromSeed(step);
      const { dStep, gStep } = trainingStep(model, input, rng);
      expect(Number.isFinite(dStep.value.dataSync()[0])).toBe(true);
      expect(Number.isFinite(gStep.value.dataSync()[0])).toBe(true);
      const zeroGrads = Object.entries({ ...dStep.grads, ...gStep.grads })
        .filter(([, grad]) => tf.tidy(() => tf.max(tf.abs(grad)).dataSync()[0]) === 0)
        .map(([n]) => n);
      expect(zeroGrads).toEqual([]);
      tf.dispose([dStep.value, gStep.value, ...Object.values(dStep.grads), ...Object.values(gStep.grads)]);
      expect(tf.memory().numTensors).toBe(before);
    }
    // The training forwards updated BN running statistics (twice per step: D and G forwards).
    const tracked = model.generator
      .state()
      .find((e) => e.name === 'in_conv.conv.conv1.1.num_batches_tracked');
    expect(tracked?.variable.dataSync()[0]).toBe(4);
    input.dispose();
    model.dispose();
  });

  it('digitanatomy preset: one G and D step (batch 2) without kernel errors, NaNs or leaks', () => {
    const model = createSquidModel(presets.digitanatomy, Rng.fromSeed(1));
    const input = x(96);
    const before = tf.memory().numTensors;
    const { dStep, gStep } = trainingStep(model, input, Rng.fromSeed(1));
    const grads = { ...dStep.grads, ...gStep.grads };
    expect(Object.keys(grads).length).toBe(
      [...model.generator.state(), ...model.discriminator.state()].filter((e) => e.kind === 'parameter')
        .length,
    );
    const bad = Object.entries(grads)
      .filter(([, g]) => tf.tidy(() => tf.logicalNot(tf.all(tf.isFinite(g))).dataSync()[0]) === 1)
      .map(([n]) => n);
    expect(bad).toEqual([]);
    expect(Number.isFinite(dStep.value.dataSync()[0])).toBe(true);
    expect(Number.isFinite(gStep.value.dataSync()[0])).toBe(true);
    tf.dispose([dStep.value, gStep.value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    input.dispose();
    model.dispose();
  }, 900_000);
});

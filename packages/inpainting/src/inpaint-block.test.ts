import { initBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InpaintBlock } from './inpaint-block.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const OPTIONS = { channels: 16, numPatch: 3, height: 2, width: 2, slots: 8, shrink: 3, heads: 4 };

describe('InpaintBlock structure', () => {
  it('exposes the official state names and shapes', () => {
    const block = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(1) });
    const d = 4 * 2 * 2;
    expect(block.dim).toBe(d);
    const names = block.state().map((e) => `${e.name}:${e.variable.shape.join('x')}:${e.official ?? true}`);
    expect(names).toEqual([
      'bottleneck_conv1.0.weight:1x1x16x4:true',
      ...['weight', 'bias', 'running_mean', 'running_var'].map((n) => `bottleneck_conv1.1.${n}:4:true`),
      'bottleneck_conv1.1.num_batches_tracked::true',
      ...Array.from({ length: 9 }, (_, i) => [
        `memory.${i}.memMatrix:8x${d}:true`,
        `memory.${i}.ptr::false`,
      ]).flat(),
      `attention.in_proj_weight:${3 * d}x${d}:true`,
      `attention.in_proj_bias:${3 * d}:true`,
      `attention.out_proj.weight:${d}x${d}:true`,
      `attention.out_proj.bias:${d}:true`,
      `attn_norm1.weight:${d}:true`,
      `attn_norm1.bias:${d}:true`,
      `ff.0.weight:${d}x4:true`,
      'ff.0.bias:4:true',
      `ff.3.weight:4x${d}:true`,
      `ff.3.bias:${d}:true`,
      `attn_norm2.weight:${d}:true`,
      `attn_norm2.bias:${d}:true`,
      'bottleneck_conv2.0.weight:1x1x8x16:true',
      'bottleneck_conv2.0.bias:16:true',
      ...['weight', 'bias', 'running_mean', 'running_var'].map((n) => `bottleneck_conv2.1.${n}:16:true`),
      'bottleneck_conv2.1.num_batches_tracked::true',
    ]);
    const layouts = Object.fromEntries(block.state().map((e) => [e.name, e.layout]));
    expect(layouts['attention.in_proj_weight']).toBe('raw');
    expect(layouts['bottleneck_conv2.0.weight']).toBe('conv');
    expect(
      block
        .state()
        .filter((e) => e.name.startsWith('memory.'))
        .every((e) => e.kind === 'buffer'),
    ).toBe(true);
    block.dispose();
  });

  it('leaves no tensors behind after construction + dispose', () => {
    const before = tf.memory().numTensors;
    const block = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(1) });
    expect(tf.memory().numTensors).toBe(before + block.state().length);
    block.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('rejects bad options and inputs with clear errors', () => {
    expect(() => new InpaintBlock({ ...OPTIONS, heads: 5, rng: Rng.fromSeed(1) })).toThrow(
      /not divisible by 5 heads/,
    );
    expect(() => new InpaintBlock({ ...OPTIONS, numPatch: 0, rng: Rng.fromSeed(1) })).toThrow(/numPatch/);
    const block = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(1) });
    expect(() => block.apply(tf.zeros([8, 2, 2, 16]) as tf.Tensor4D, { training: false })).toThrow(
      /B·9, 2, 2, 16/,
    );
    expect(() => block.apply(tf.zeros([9, 2, 2, 16]) as tf.Tensor4D, { training: true })).toThrow(
      /options.rng/,
    );
    block.dispose();
  });

  it('restores outputs exactly from saved state (including queue pointers)', () => {
    const a = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(2) });
    const x = tf.randomNormal([18, 2, 2, 16], 0, 1, 'float32', 3) as tf.Tensor4D;
    tf.dispose(a.apply(x, { training: true, rng: Rng.fromSeed(4) }));
    a.updateQueues();
    const b = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(99) });
    const saved = a.state();
    b.state().forEach((e, i) => {
      e.variable.assign(saved[i].variable);
    });
    expect(b.queues.map((q) => q.pointer)).toEqual(new Array(9).fill(2));
    expect(b.apply(x, { training: false }).arraySync()).toEqual(a.apply(x, { training: false }).arraySync());
    a.dispose();
    b.dispose();
  });
});

describe('InpaintBlock queues', () => {
  it('enqueues the detached query features of the last training forward, B per position, after updateQueues', () => {
    const block = new InpaintBlock({ ...OPTIONS, rng: Rng.fromSeed(5) });
    const x = tf.randomNormal([18, 2, 2, 16], 0, 1, 'float32', 6) as tf.Tensor4D;
    const before = block.queues.map((q) => q.memory.arraySync() as number[][]);
    const capture = new Map<string, tf.Tensor>();
    tf.dispose(block.apply(x, { training: true, rng: Rng.fromSeed(7), capture }));
    // Nothing is written before updateQueues (the optimizer step comes first).
    expect(block.queues.map((q) => q.memory.arraySync())).toEqual(before);
    block.updateQueues();
    const queueIn = capture.get('queue_in')!.arraySync() as number[][][]; // [B, P², dim]
    block.queues.forEach((q, n) => {
      expect(q.pointer).toBe(2);
      const m = q.memory.arraySync() as number[][];
      expect(m.slice(0, 2)).toEqual([queueIn[0][n], queueIn[1][n]]);
      expect(m.slice(2)).toEqual(before[n].slice(2));
    });
    // A second update without a new training forward changes nothing; eval forwards record nothing.
    block.updateQueues();
    tf.dispose(block.apply(x, { training: false }));
    block.updateQueues();
    expect(block.queues.map((q) => q.pointer)).toEqual(new Array(9).fill(2));
    tf.dispose([...capture.values()]);
    block.dispose();
  });

  it('masks the shortcut at rate 1 − ratio in training, reproducibly, and not in eval', () => {
    const block = new InpaintBlock({ ...OPTIONS, ratio: 0.8, rng: Rng.fromSeed(8) });
    const x = tf.randomNormal([36, 2, 2, 16], 0, 1, 'float32', 9) as tf.Tensor4D;
    const a = block.apply(x, { training: true, rng: Rng.fromSeed(10) });
    const b = block.apply(x, { training: true, rng: Rng.fromSeed(10) });
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    const kept = tf.tidy(() => tf.all(tf.equal(a, x), -1).sum().dataSync()[0]);
    const n = 36 * 2 * 2;
    expect(Math.abs(kept - 0.2 * n)).toBeLessThan(4 * Math.sqrt(n * 0.2 * 0.8));
    const evalOut = block.apply(x, { training: false });
    expect(tf.tidy(() => tf.all(tf.equal(evalOut, x), -1).sum().dataSync()[0])).toBe(0);
    tf.dispose([a, b, evalOut]);
    block.dispose();
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`InpaintBlock training (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await initBackend({ backend: 'cpu' });
    });

    it('sends gradient to every parameter and the input, never to the queues; no leaks over step + update', () => {
      const block = new InpaintBlock({ ...OPTIONS, drop: 0.1, rng: Rng.fromSeed(11) });
      const x = tf.variable(tf.randomNormal([18, 2, 2, 16], 0, 1, 'float32', 12));
      const target = tf.randomNormal([18, 2, 2, 16], 0, 1, 'float32', 13);
      const rng = Rng.fromSeed(14);
      const step = () => {
        const { value, grads } = tf.variableGrads(
          () =>
            tf.mean(
              tf.square(tf.sub(block.apply(x as tf.Tensor4D, { training: true, rng }), target)),
            ) as tf.Scalar,
        );
        const norms = Object.fromEntries(
          Object.entries(grads).map(([k, g]) => [k, tf.tidy(() => tf.abs(g).max().dataSync()[0])]),
        );
        tf.dispose([value, ...Object.values(grads)]);
        block.updateQueues();
        return norms;
      };
      const norms = step();
      for (const e of block.state()) {
        if (e.kind === 'parameter') expect(norms[e.variable.name], e.name).toBeGreaterThan(0);
        else expect(norms[e.variable.name], e.name).toBeUndefined();
      }
      expect(norms[x.name]).toBeGreaterThan(0);
      expect(block.queues[0].pointer).toBe(2);
      const before = tf.memory().numTensors;
      for (let i = 0; i < 3; i++) step();
      expect(tf.memory().numTensors).toBe(before);
      expect(block.queues[0].pointer).toBe((4 * 2) % OPTIONS.slots);
      tf.dispose([x, target]);
      block.dispose();
    });
  });
}

describe('InpaintBlock on wasm', () => {
  afterAll(async () => {
    await initBackend({ backend: 'cpu' });
  });

  it('computes the same training gradients as cpu (same weights, input and masks)', async () => {
    await initBackend({ backend: 'cpu' });
    const block = new InpaintBlock({ ...OPTIONS, drop: 0.1, rng: Rng.fromSeed(21) });
    const x = tf.variable(tf.randomNormal([18, 2, 2, 16], 0, 1, 'float32', 22));
    const gradients = () => {
      const rng = Rng.fromSeed(23);
      const { value, grads } = tf.variableGrads(
        () => tf.sum(tf.square(block.apply(x as tf.Tensor4D, { training: true, rng }))) as tf.Scalar,
      );
      const out = Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, Array.from(g.dataSync())]));
      tf.dispose([value, ...Object.values(grads)]);
      return out;
    };
    // Running statistics change with every training forward: snapshot and restore them.
    const snapshot = block.state().map((e) => e.variable.clone());
    const onCpu = gradients();
    block.state().forEach((e, i) => {
      e.variable.assign(snapshot[i]);
    });
    await initBackend({ backend: 'wasm' });
    expect(tf.getBackend()).toBe('wasm');
    const onWasm = gradients();
    let worst = 0;
    const names = new Map(block.state().map((e) => [e.variable.name, e.name]));
    const maxAbs = (g: number[]) => Math.max(...g.map(Math.abs));
    const largest = Math.max(...Object.values(onCpu).map(maxAbs));
    for (const [id, g] of Object.entries(onCpu)) {
      const name = names.get(id) ?? 'input';
      if (name === 'bottleneck_conv2.0.bias') {
        // A conv bias right before batch-statistics BatchNorm cancels out: its true gradient is 0
        // and both backends return rounding noise.
        expect(maxAbs(g)).toBeLessThan(1e-3 * largest);
        expect(maxAbs(onWasm[id])).toBeLessThan(1e-3 * largest);
        continue;
      }
      const scale = maxAbs(g);
      g.forEach((v, i) => {
        worst = Math.max(worst, Math.abs(v - onWasm[id][i]) / scale);
      });
    }
    expect(Object.keys(onWasm).sort()).toEqual(Object.keys(onCpu).sort());
    console.log(JSON.stringify({ wasmVsCpuGradientMaxRelErr: worst }));
    expect(worst).toBeLessThan(1e-4);
    tf.dispose(snapshot);
    x.dispose();
    block.dispose();
  });
});

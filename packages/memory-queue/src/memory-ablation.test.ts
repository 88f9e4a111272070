import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryMatrix } from './memory-matrix.js';
import { MemoryMatrixBlock } from './memory-matrix-block.js';
import { MemoryMatrixBlockV3 } from './memory-matrix-block-v3.js';
import { readMemory } from './read-memory.js';

// SQUID's ablations at the memory level: softmax addressing instead of Gumbel shrinkage, and one
// memory shared by every patch or window instead of space-aware memories.

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe("readMemory with 'softmax'", () => {
  it('weights every slot by softmax(q·Mᵀ) (float64 reference) and reads w·M', () => {
    const q = [
      [0.3, -1.2, 0.5],
      [1.1, 0.4, -0.7],
    ];
    const m = [
      [0.2, 0.1, -0.3],
      [-0.5, 0.4, 0.9],
      [1.0, -0.2, 0.3],
      [0.05, 0.6, -0.8],
    ];
    const read = readMemory(tf.tensor2d(q), tf.tensor2d(m), 'softmax');
    const w = read.attention.arraySync();
    const out = read.out.arraySync();
    q.forEach((row, r) => {
      const logits = m.map((slot) => slot.reduce((s, v, i) => s + v * row[i], 0));
      const e = logits.map((l) => Math.exp(l - Math.max(...logits)));
      const total = e.reduce((s, v) => s + v, 0);
      const ref = e.map((v) => v / total);
      ref.forEach((v, i) => {
        expect(w[r][i]).toBeCloseTo(v, 6);
      });
      m[0].forEach((_, c) => {
        expect(out[r][c]).toBeCloseTo(
          ref.reduce((s, v, i) => s + v * m[i][c], 0),
          6,
        );
      });
    });
    // Top-3 of the same logits keeps 2 entries per row: the two modes differ.
    const sparse = readMemory(tf.tensor2d(q), tf.tensor2d(m), 3).attention.arraySync();
    expect(sparse.map((r) => r.filter((v) => v > 0).length)).toEqual([2, 2]);
    expect(w.map((r) => r.filter((v) => v > 0).length)).toEqual([4, 4]);
  });

  it('is accepted by the memory configs, other strings are not', () => {
    const rng = Rng.fromSeed(1);
    const memory = new MemoryMatrix({ slots: 4, dim: 3, shrink: 'softmax', rng });
    expect(memory.shrink).toBe('softmax');
    memory.dispose();
    expect(() => new MemoryMatrix({ slots: 4, dim: 3, shrink: 'sparsemax' as 'softmax', rng })).toThrow(
      /MemoryMatrix: invalid options: shrink/,
    );
  });
});

/** Sets every memory of a block's state to `memory` `[slots, dim]`. */
function fillMemories(block: { state(): { variable: tf.Variable }[] }, memory: tf.Tensor): void {
  for (const e of block.state()) e.variable.assign(memory);
}

describe('shared decoder memories', () => {
  const options = { numMemory: 9, slots: 6, channels: 2, height: 2, width: 2, shrink: 3 };
  it('MemoryMatrixBlockV3: one memory read by every patch = nine memories all equal to it', () => {
    const shared = new MemoryMatrixBlockV3({ ...options, shared: true, rng: Rng.fromSeed(2) });
    expect(shared.state().map((e) => `${e.name}:${e.variable.shape}`)).toEqual(['memory.0.memMatrix:6,8']);
    const perPatch = new MemoryMatrixBlockV3({ ...options, rng: Rng.fromSeed(3) });
    expect(perPatch.state()).toHaveLength(9);
    const x = tf.randomNormal([18, 2, 2, 2], 0, 1, 'float32', 4) as tf.Tensor4D;
    const own = perPatch.apply(x, { training: false }).arraySync();
    fillMemories(perPatch, shared.state()[0].variable);
    const a = shared.apply(x, { training: false }).arraySync();
    expect(perPatch.apply(x, { training: false }).arraySync()).toEqual(a);
    expect(own).not.toEqual(a);
    x.dispose();
    shared.dispose();
    perPatch.dispose();
  });

  it('MemoryMatrixBlock: one memory read by every window = four memories all equal to it', () => {
    const o = { ...options, numMemory: 4, height: 4, width: 4 };
    const shared = new MemoryMatrixBlock({ ...o, shared: true, rng: Rng.fromSeed(5) });
    expect(shared.state().map((e) => e.name)).toEqual(['memory.0.memMatrix']);
    const perWindow = new MemoryMatrixBlock({ ...o, rng: Rng.fromSeed(6) });
    const x = tf.randomNormal([3, 4, 4, 2], 0, 1, 'float32', 7) as tf.Tensor4D;
    fillMemories(perWindow, shared.state()[0].variable);
    const captured = new Map<string, tf.Tensor>();
    const a = shared.apply(x, { training: false, capture: captured });
    expect(captured.get('attention')?.shape).toEqual([3, 4, 6]);
    expect(perWindow.apply(x, { training: false }).arraySync()).toEqual(a.arraySync());
    tf.dispose([x, a, ...captured.values()]);
    shared.dispose();
    perWindow.dispose();
  });

  it('a shared memory gets the gradient of every patch and leaks nothing', () => {
    const shared = new MemoryMatrixBlockV3({ ...options, shared: true, rng: Rng.fromSeed(8) });
    const x = tf.randomNormal([18, 2, 2, 2], 0, 1, 'float32', 9) as tf.Tensor4D;
    const before = tf.memory().numTensors;
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(shared.apply(x, { training: true, rng: Rng.fromSeed(1) }))) as tf.Scalar,
      [shared.state()[0].variable],
    );
    const g = Object.values(grads)[0];
    expect(tf.tidy(() => tf.abs(g).max().dataSync()[0])).toBeGreaterThan(0);
    tf.dispose([value, ...Object.values(grads)]);
    expect(tf.memory().numTensors).toBe(before);
    x.dispose();
    shared.dispose();
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { MemoryMatrix } from './memory-matrix.js';
import { MemoryQueue } from './memory-queue.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** `[n, dim]` rows whose every entry is the row's label, to track which feature sits where. */
const labelled = (labels: number[], dim: number) =>
  tf.tensor2d(
    labels.flatMap((l) => new Array(dim).fill(l)),
    [labels.length, dim],
  );
const slotLabels = (q: MemoryQueue) => (q.memory.arraySync() as number[][]).map((row) => row[0]);

describe('MemoryQueue ring buffer', () => {
  it('writes in order at the pointer and wraps around', () => {
    const q = new MemoryQueue({ slots: 5, dim: 3, shrink: 2, rng: Rng.fromSeed(1) });
    const initial = slotLabels(q);
    expect(q.pointer).toBe(0);
    q.enqueue(labelled([10, 11, 12], 3));
    expect(q.pointer).toBe(3);
    expect(slotLabels(q)).toEqual([10, 11, 12, initial[3], initial[4]]);
    q.enqueue(labelled([20, 21, 22, 23], 3));
    expect(q.pointer).toBe(2);
    expect(slotLabels(q)).toEqual([22, 23, 12, 20, 21]);
    // More features than slots: only the newest `slots` survive, in ring order.
    q.enqueue(labelled([30, 31, 32, 33, 34, 35, 36], 3));
    expect(q.pointer).toBe(4);
    expect(slotLabels(q)).toEqual([33, 34, 35, 36, 32]);
    // Every entry of a slot is the enqueued row, not only the first column.
    expect((q.memory.arraySync() as number[][])[0]).toEqual([33, 33, 33]);
    q.dispose();
  });

  it('reproduces the fixture pointers: batch 6 into 16 slots over 3 steps → 6, 12, 2', () => {
    const q = new MemoryQueue({ slots: 16, dim: 4, rng: Rng.fromSeed(2) });
    const pointers: number[] = [];
    for (let step = 0; step < 3; step++) {
      q.enqueue(
        labelled(
          [0, 1, 2, 3, 4, 5].map((i) => 6 * step + i),
          4,
        ),
      );
      pointers.push(q.pointer);
    }
    expect(pointers).toEqual([6, 12, 2]);
    expect(slotLabels(q)).toEqual([16, 17, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]);
    q.dispose();
  });

  it('initialises uniform(±1/√dim) reproducibly by seed', () => {
    const a = new MemoryQueue({ slots: 20, dim: 16, rng: Rng.fromSeed(3) });
    const b = new MemoryQueue({ slots: 20, dim: 16, rng: Rng.fromSeed(3) });
    const values = Array.from(a.memory.dataSync());
    expect(Math.max(...values.map(Math.abs))).toBeLessThanOrEqual(0.25);
    expect(Math.max(...values.map(Math.abs))).toBeGreaterThan(0.2);
    expect(Array.from(b.memory.dataSync())).toEqual(values);
    a.dispose();
    b.dispose();
  });

  it('saves and restores contents and pointer through state()', () => {
    const a = new MemoryQueue({ slots: 6, dim: 4, shrink: 3, rng: Rng.fromSeed(4) });
    a.enqueue(tf.randomNormal([9, 4], 0, 1, 'float32', 11) as tf.Tensor2D);
    const saved = new Map(a.state().map((e) => [e.name, e.variable.clone()]));
    expect(a.state().map((e) => [e.name, e.kind, e.official ?? true])).toEqual([
      ['memMatrix', 'buffer', true],
      ['ptr', 'buffer', false],
    ]);
    const b = new MemoryQueue({ slots: 6, dim: 4, shrink: 3, rng: Rng.fromSeed(99) });
    for (const e of b.state()) e.variable.assign(saved.get(e.name)!);
    expect(b.pointer).toBe(3);
    expect(b.memory.arraySync()).toEqual(a.memory.arraySync());
    const query = tf.randomNormal([5, 4], 0, 1, 'float32', 12) as tf.Tensor2D;
    expect(b.read(query).out.arraySync()).toEqual(a.read(query).out.arraySync());
    // Both continue identically.
    const next = labelled([7, 8], 4);
    a.enqueue(next);
    b.enqueue(next);
    expect(b.pointer).toBe(a.pointer);
    expect(slotLabels(b)).toEqual(slotLabels(a));
    a.dispose();
    b.dispose();
  });

  it('rejects features of the wrong size, naming the expected shape', () => {
    const q = new MemoryQueue({ slots: 4, dim: 3, rng: Rng.fromSeed(5) });
    expect(() => q.enqueue(tf.zeros([2, 5]) as tf.Tensor2D)).toThrow(/\[n, 3\]/);
    expect(() => new MemoryQueue({ slots: 0, dim: 3, rng: Rng.fromSeed(5) })).toThrow(
      /MemoryQueue: invalid options: slots/,
    );
    q.dispose();
  });
});

describe('memory reads and gradients', () => {
  it('reads w·M with k−1 slots per row', () => {
    const q = new MemoryQueue({ slots: 8, dim: 4, shrink: 3, rng: Rng.fromSeed(6) });
    const query = tf.randomNormal([3, 4], 0, 4, 'float32', 13) as tf.Tensor2D;
    const { out, attention } = q.read(query);
    const att = attention.arraySync();
    for (const row of att) expect(row.filter((v) => v > 0)).toHaveLength(2);
    const m = q.memory.arraySync() as number[][];
    const expected = att.map((row) =>
      [0, 1, 2, 3].map((j) => row.reduce((acc, w, s) => acc + w * m[s][j], 0)),
    );
    (out.arraySync() as number[][]).forEach((row, i) => {
      row.forEach((v, j) => {
        expect(v).toBeCloseTo(expected[i][j], 6);
      });
    });
    q.dispose();
  });

  it('sends gradient to the query and never into the queue buffer', () => {
    const q = new MemoryQueue({ slots: 8, dim: 4, shrink: 3, rng: Rng.fromSeed(7) });
    const source = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 14));
    const { grads, value } = tf.variableGrads(
      () => tf.sum(tf.square(q.read(source as tf.Tensor2D).out)) as tf.Scalar,
    );
    expect(Object.keys(grads)).toEqual([source.name]);
    expect(Math.max(...Array.from(grads[source.name].dataSync()).map(Math.abs))).toBeGreaterThan(1e-4);
    // Even if the buffer were made trainable, it gets an exactly-zero gradient (it is read detached).
    q.memory.trainable = true;
    const explicit = tf.variableGrads(
      () => tf.sum(q.read(source as tf.Tensor2D).out) as tf.Scalar,
      [source, q.memory],
    );
    q.memory.trainable = false;
    const bufferGrad = explicit.grads[q.memory.name];
    expect(bufferGrad === null || Math.max(...Array.from(bufferGrad.dataSync()).map(Math.abs)) === 0).toBe(
      true,
    );
    expect(Math.max(...Array.from(explicit.grads[source.name].dataSync()).map(Math.abs))).toBeGreaterThan(
      1e-4,
    );
    tf.dispose([
      value,
      ...Object.values(grads),
      explicit.value,
      ...Object.values(explicit.grads).filter((t) => t),
    ]);
    source.dispose();
    q.dispose();
  });

  it('MemoryMatrix: gradient w.r.t. the learned memory matches finite differences of the straight-through surrogate', () => {
    const k = 3;
    const mm = new MemoryMatrix({ slots: 6, dim: 3, shrink: k, rng: Rng.fromSeed(8) });
    mm.memory.assign(tf.mul(mm.memory, 6)); // sharper addressing, so all slots matter
    const query = tf.tensor2d([
      [0.9, -1.4, 2.2],
      [-1.1, 0.5, 1.7],
    ]);
    const g = tf.tensor2d([
      [0.3, -0.8, 1.1],
      [1.4, 0.2, -0.6],
    ]);
    const { grads } = tf.variableGrads(() => tf.sum(tf.mul(mm.read(query).out, g)) as tf.Scalar);
    const ours = grads[mm.memory.name].arraySync() as number[][];
    expect(Object.keys(grads)).toEqual([mm.memory.name]);

    // Surrogate with the same derivative as the straight-through rule: out = (h₀ − y₀ + y(M))·M,
    // h₀ and y₀ frozen at the evaluation point; differentiated numerically in float64.
    const M0 = mm.memory.arraySync() as number[][];
    const Q = query.arraySync();
    const G = g.arraySync();
    const softmaxRows = (M: number[][]) =>
      Q.map((q) => {
        const w = M.map((m) => m.reduce((a, v, j) => a + v * q[j], 0));
        const mx = Math.max(...w);
        const e = w.map((v) => Math.exp(v - mx));
        const s = e.reduce((a, b) => a + b, 0);
        return e.map((v) => v / s);
      });
    const y0 = softmaxRows(M0);
    const h0 = mm.read(query).attention.arraySync();
    const loss = (M: number[][]) => {
      const y = softmaxRows(M);
      let total = 0;
      Q.forEach((_, r) => {
        const w = y[r].map((v, s) => h0[r][s] - y0[r][s] + v);
        for (let j = 0; j < 3; j++) total += G[r][j] * w.reduce((a, ws, s) => a + ws * M[s][j], 0);
      });
      return total;
    };
    const eps = 1e-5;
    for (let s = 0; s < 6; s++) {
      for (let j = 0; j < 3; j++) {
        const plus = M0.map((row) => [...row]);
        const minus = M0.map((row) => [...row]);
        plus[s][j] += eps;
        minus[s][j] -= eps;
        const fd = (loss(plus) - loss(minus)) / (2 * eps);
        expect(Math.abs(ours[s][j] - fd), `slot ${s} dim ${j}`).toBeLessThan(2e-5 + 1e-3 * Math.abs(fd));
      }
    }
    expect(mm.state()).toEqual([
      { name: 'memMatrix', variable: mm.memory, kind: 'parameter', layout: 'raw' },
    ]);
    mm.dispose();
  });

  it('does not leak tensors over repeated read / backward / enqueue', () => {
    const q = new MemoryQueue({ slots: 8, dim: 4, rng: Rng.fromSeed(9) });
    const source = tf.variable(tf.randomNormal([3, 4], 0, 1, 'float32', 15));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => tf.sum(q.read(source as tf.Tensor2D).out) as tf.Scalar);
      tf.dispose([value, ...Object.values(grads)]);
      q.enqueue(source as tf.Tensor2D);
    };
    step();
    const before = tf.memory().numTensors;
    for (let i = 0; i < 4; i++) step();
    expect(tf.memory().numTensors).toBe(before);
    source.dispose();
    q.dispose();
  });
});

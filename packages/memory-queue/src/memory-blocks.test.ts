import { initBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MemoryMatrixBlock } from './memory-matrix-block.js';
import { MemoryMatrixBlockV3 } from './memory-matrix-block-v3.js';
import { MemoryQueue } from './memory-queue.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

describe('memory lifetimes', () => {
  it('leaves no tensors behind after construction + dispose', () => {
    const before = tf.memory().numTensors;
    const blocks = [
      new MemoryMatrixBlock({
        numMemory: 4,
        slots: 6,
        channels: 3,
        height: 4,
        width: 4,
        rng: Rng.fromSeed(1),
      }),
      new MemoryMatrixBlockV3({
        numMemory: 4,
        slots: 6,
        channels: 3,
        height: 4,
        width: 4,
        rng: Rng.fromSeed(1),
      }),
      new MemoryQueue({ slots: 6, dim: 3, rng: Rng.fromSeed(1) }),
    ];
    const owned = blocks.reduce((n, b) => n + b.state().length, 0);
    expect(tf.memory().numTensors).toBe(before + owned);
    for (const b of blocks) b.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });
});

describe('MemoryMatrixBlock (per-window)', () => {
  it('flattens each window in (H, W, C) order and reads memory r for window r (loop reference)', () => {
    const block = new MemoryMatrixBlock({
      numMemory: 4,
      slots: 6,
      channels: 3,
      height: 4,
      width: 4,
      shrink: 3,
      rng: Rng.fromSeed(1),
    });
    expect(block.dim).toBe(2 * 2 * 3);
    const x = tf.randomNormal([2, 4, 4, 3], 0, 2, 'float32', 5) as tf.Tensor4D;
    const capture = new Map<string, tf.Tensor>();
    const y = block.apply(x, { training: false, capture }).arraySync();
    const xs = x.arraySync();
    const memories = block.state().map((e) => e.variable.arraySync() as number[][]);
    const att = capture.get('attention')!.arraySync() as number[][][];
    expect(capture.get('attention')!.shape).toEqual([2, 4, 6]);
    for (let b = 0; b < 2; b++) {
      for (let r = 0; r < 4; r++) {
        const [wi, wj] = [Math.floor(r / 2), r % 2];
        const q: number[] = [];
        for (let yy = 0; yy < 2; yy++)
          for (let xx = 0; xx < 2; xx++) q.push(...xs[b][wi * 2 + yy][wj * 2 + xx]);
        // Attention of this window from the official rule (top-(k−1) of softmax, L1-normalised).
        const logits = memories[r].map((m) => m.reduce((a, v, j) => a + v * q[j], 0));
        const mx = Math.max(...logits);
        const e = logits.map((v) => Math.exp(v - mx));
        const s = e.reduce((a, v) => a + v, 0);
        const p = e.map((v) => v / s);
        const t = [...p].sort((u, v) => v - u)[2];
        const h = p.map((v) => (v > t ? v : 0));
        const hs = h.reduce((a, v) => a + v, 0);
        h.forEach((v, slot) => {
          expect(att[b][r][slot]).toBeCloseTo(v / hs, 5);
        });
        const read = memories[r][0].map((_, j) =>
          h.reduce((a, w, slot) => a + (w / hs) * memories[r][slot][j], 0),
        );
        let k = 0;
        for (let yy = 0; yy < 2; yy++) {
          for (let xx = 0; xx < 2; xx++) {
            for (let c = 0; c < 3; c++) expect(y[b][wi * 2 + yy][wj * 2 + xx][c]).toBeCloseTo(read[k++], 5);
          }
        }
      }
    }
    tf.dispose([...capture.values()]);
    block.dispose();
  });

  it('rejects maps that do not split into equal windows', () => {
    expect(
      () =>
        new MemoryMatrixBlock({
          numMemory: 4,
          slots: 6,
          channels: 3,
          height: 5,
          width: 5,
          rng: Rng.fromSeed(1),
        }),
    ).toThrow(/equal square windows/);
    expect(
      () =>
        new MemoryMatrixBlock({
          numMemory: 3,
          slots: 6,
          channels: 3,
          height: 6,
          width: 6,
          rng: Rng.fromSeed(1),
        }),
    ).toThrow(/square/);
  });
});

describe('MemoryMatrixBlockV3 (per-patch)', () => {
  it('serves row b·N + r from memory r with (C, H, W) flattening', () => {
    const block = new MemoryMatrixBlockV3({
      numMemory: 3,
      slots: 5,
      channels: 2,
      height: 2,
      width: 2,
      shrink: 3,
      rng: Rng.fromSeed(2),
    });
    const x = tf.randomNormal([6, 2, 2, 2], 0, 3, 'float32', 6) as tf.Tensor4D;
    const y = block.apply(x, { training: false }).arraySync();
    const xs = x.arraySync();
    const memories = block.state().map((e) => e.variable.arraySync() as number[][]);
    for (let row = 0; row < 6; row++) {
      const r = row % 3;
      const q: number[] = [];
      for (let c = 0; c < 2; c++)
        for (let i = 0; i < 2; i++) for (let j = 0; j < 2; j++) q.push(xs[row][i][j][c]);
      const logits = memories[r].map((m) => m.reduce((a, v, j) => a + v * q[j], 0));
      const mx = Math.max(...logits);
      const p = logits.map((v) => Math.exp(v - mx));
      const t = [...p].sort((u, v) => v - u)[2];
      const h = p.map((v) => (v > t ? v : 0));
      const hs = h.reduce((a, v) => a + v, 0);
      const read = memories[r][0].map((_, j) =>
        h.reduce((a, w, slot) => a + (w / hs) * memories[r][slot][j], 0),
      );
      let k = 0;
      for (let c = 0; c < 2; c++) {
        for (let i = 0; i < 2; i++)
          for (let j = 0; j < 2; j++) expect(y[row][i][j][c]).toBeCloseTo(read[k++], 5);
      }
    }
    expect(block.state().map((e) => e.name)).toEqual([
      'memory.0.memMatrix',
      'memory.1.memMatrix',
      'memory.2.memMatrix',
    ]);
    expect(() => block.apply(tf.zeros([4, 2, 2, 2]) as tf.Tensor4D, { training: false })).toThrow(
      /multiple of 3/,
    );
    expect(() => block.apply(x, { training: true })).toThrow(/options.rng/);
    block.dispose();
  });
});

for (const backend of ['cpu', 'wasm'] as const) {
  describe(`memory blocks in training (${backend})`, () => {
    beforeAll(async () => {
      await initBackend({ backend });
      expect(tf.getBackend()).toBe(backend);
    });
    afterAll(async () => {
      await initBackend({ backend: 'cpu' });
    });

    for (const Block of [MemoryMatrixBlockV3, MemoryMatrixBlock]) {
      it(`${Block.name}: masks at rate ratio, reproducible by seed; gradients reach every memory and the input; no leaks`, () => {
        const block = new Block({
          numMemory: 4,
          slots: 8,
          channels: 4,
          height: 4,
          width: 4,
          ratio: 0.75,
          rng: Rng.fromSeed(3),
        });
        const x = tf.variable(tf.randomNormal([8, 4, 4, 4], 0, 1, 'float32', 7));
        const evalOut = block.apply(x as tf.Tensor4D, { training: false });
        const a = block.apply(x as tf.Tensor4D, { training: true, rng: Rng.fromSeed(11) });
        const b = block.apply(x as tf.Tensor4D, { training: true, rng: Rng.fromSeed(11) });
        expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
        // Locations that kept the input (all 4 channels equal to x, not to the memory read-out).
        const keptInput = tf.tidy(
          () =>
            tf
              .all(tf.equal(a, x), -1)
              .logicalAnd(tf.any(tf.notEqual(evalOut, x), -1))
              .sum()
              .dataSync()[0],
        );
        const n = 8 * 4 * 4;
        expect(Math.abs(keptInput - 0.25 * n)).toBeLessThan(4 * Math.sqrt(n * 0.25 * 0.75));
        tf.dispose([evalOut, a, b]);

        const step = () => {
          const rng = Rng.fromSeed(12);
          const { value, grads } = tf.variableGrads(
            () => tf.sum(tf.square(block.apply(x as tf.Tensor4D, { training: true, rng }))) as tf.Scalar,
          );
          const norms = Object.fromEntries(
            Object.entries(grads).map(([k, g]) => [k, tf.tidy(() => tf.abs(g).max().dataSync()[0])]),
          );
          tf.dispose([value, ...Object.values(grads)]);
          return norms;
        };
        const norms = step();
        for (const e of block.state()) expect(norms[e.variable.name], e.name).toBeGreaterThan(0);
        expect(norms[x.name]).toBeGreaterThan(0);
        const before = tf.memory().numTensors;
        for (let i = 0; i < 3; i++) step();
        expect(tf.memory().numTensors).toBe(before);
        x.dispose();
        block.dispose();
      });
    }
  });
}

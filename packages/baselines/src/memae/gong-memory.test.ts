import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { addressingEntropy, GongMemory, gongAddress } from './gong-memory.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** The official MemoryUnit.forward and EntropyLoss written out in plain loops (float64). */
function reference(q: number[][], m: number[][], lambda: number) {
  const att = q.map((row) => {
    const logits = m.map((slot) => slot.reduce((s, v, j) => s + v * row[j], 0));
    const max = Math.max(...logits);
    const e = logits.map((l) => Math.exp(l - max));
    const z = e.reduce((a, b) => a + b, 0);
    let w = e.map((v) => v / z);
    if (lambda > 0) {
      w = w.map((v) => (Math.max(v - lambda, 0) * v) / (Math.abs(v - lambda) + 1e-12));
      const l1 = Math.max(
        w.reduce((a, b) => a + Math.abs(b), 0),
        1e-12,
      );
      w = w.map((v) => v / l1);
    }
    return w;
  });
  const out = att.map((w) => m[0].map((_, j) => w.reduce((s, wi, i) => s + wi * m[i][j], 0)));
  const entropy =
    att.reduce((s, w) => s - w.reduce((a, v) => a + v * Math.log(v + 1e-12), 0), 0) / att.length;
  return { att, out, entropy };
}

const close = (actual: ArrayLike<number>, expected: number[], tol = 1e-6) => {
  expect(actual.length).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) expect(Math.abs(actual[i] - expected[i])).toBeLessThan(tol);
};

describe('Gong et al. memory addressing', () => {
  // 2 queries of C = 3 against N = 4 slots; λ = 0.1 cuts some softmax weights of each row.
  const q = [
    [1, 0.5, -0.5],
    [0.2, -1, 2],
  ];
  const m = [
    [0.5, -0.25, 0.75],
    [-0.5, 0.5, 0],
    [1, 1, -1],
    [0.25, 0.5, 0.5],
  ];

  it('softmax → hard shrinkage → L1 renormalisation → w·M, and the entropy, as plain loops', () => {
    const ref = reference(q, m, 0.1);
    // The threshold bites: each row keeps some slots and drops others.
    for (const row of ref.att) {
      expect(row.some((v) => v === 0)).toBe(true);
      expect(row.filter((v) => v > 0).length).toBeGreaterThan(1);
    }
    const read = gongAddress(tf.tensor2d(q), tf.tensor2d(m), 0.1);
    close(read.attention.dataSync(), ref.att.flat());
    close(read.out.dataSync(), ref.out.flat());
    close(addressingEntropy(read.attention).dataSync(), [ref.entropy]);
    // By hand for row 0: logits 0, −0.25, 2, 0.25; softmax ≈ 0.0957, 0.0745, 0.7070, 0.1229;
    // the first two fall below 0.1, the rest renormalise: 0.7070/0.8298 ≈ 0.8520, 0.1229/0.8298 ≈ 0.1480.
    const row0 = read.attention.dataSync().slice(0, 4);
    expect(row0[0]).toBe(0);
    expect(row0[1]).toBe(0);
    expect(row0[2]).toBeCloseTo(0.852, 3);
    expect(row0[3]).toBeCloseTo(0.148, 3);
  });

  it('λ ≤ 0 leaves the softmax weights as they are (the official skip)', () => {
    const ref = reference(q, m, 0);
    const read = gongAddress(tf.tensor2d(q), tf.tensor2d(m), 0);
    close(read.attention.dataSync(), ref.att.flat());
    expect(ref.att.flat().every((v) => v > 0)).toBe(true);
  });

  it('entropy: −Σ w log(w + 1e-12) per row, averaged over rows; a zero weight adds nothing', () => {
    // Row 0 uniform over 2 slots: ln 2; row 1 one-hot: 0.
    const e = addressingEntropy(tf.tensor2d([0.5, 0.5, 0, 1, 0, 0], [2, 3])).dataSync()[0];
    expect(e).toBeCloseTo(Math.log(2) / 2, 6);
  });

  it('every bottleneck position is one C-dim query; rows in (image, y, x) order', () => {
    const memory = new GongMemory(5, 3, 0.0025, Rng.fromSeed(1));
    const features = tf.randomUniform([2, 2, 3, 3], 0, 1, 'float32', 7) as tf.Tensor4D;
    const { out, attention } = memory.apply(features);
    expect(out.shape).toEqual([2, 2, 3, 3]);
    expect(attention.shape).toEqual([12, 5]);
    // Position (image 1, y 0, x 2) is row 1·6 + 0·3 + 2 = 8.
    const f = features.arraySync() as number[][][][];
    const ref = reference([f[1][0][2]], memory.matrix.memory.arraySync() as number[][], 0.0025);
    close(attention.slice([8, 0], [1, 5]).dataSync(), ref.att[0]);
    close((out.arraySync() as number[][][][])[1][0][2], ref.out[0]);
    expect(memory.state().map((e) => [e.name, e.variable.shape])).toEqual([['memory.weight', [5, 3]]]);
    // Official init U(±1/√C).
    const w = memory.matrix.memory.dataSync();
    expect(Math.max(...w.map(Math.abs))).toBeLessThanOrEqual(1 / Math.sqrt(3));
    memory.dispose();
  });
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { InpaintBlock, type InpaintBlockOptions } from './inpaint-block.js';

// The ablation switches of the block (SQUID's Table 2): learned memory, shared memory, softmax
// addressing, residual / no shortcut. The defaults are covered by inpaint-block.test.ts and the
// parity test.

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

const OPTIONS = { channels: 16, numPatch: 3, height: 2, width: 2, slots: 8, shrink: 3, heads: 4 };
const D = 4 * 2 * 2;
const block = (o: Partial<InpaintBlockOptions> = {}, seed = 1) =>
  new InpaintBlock({ ...OPTIONS, ...o, rng: Rng.fromSeed(seed) });
const input = (rows = 18, seed = 3) =>
  tf.randomNormal([rows, 2, 2, 16], 0, 1, 'float32', seed) as tf.Tensor4D;

/** Copies every state entry of `from` that `to` has under the same name and shape. */
function copyShared(from: InpaintBlock, to: InpaintBlock): void {
  const source = new Map(from.state().map((e) => [e.name, e]));
  for (const e of to.state()) {
    const s = source.get(e.name);
    if (s && s.variable.shape.join() === e.variable.shape.join()) e.variable.assign(s.variable);
  }
}

describe('InpaintBlock memory: matrix', () => {
  it('holds learned memories (parameters, no pointers) that get gradient and are never written', () => {
    const b = block({ memory: 'matrix' });
    expect(b.queues).toEqual([]);
    const memory = b.state().filter((e) => e.name.startsWith('memory.'));
    expect(memory.map((e) => `${e.name}:${e.kind}:${e.variable.shape}`)).toEqual(
      Array.from({ length: 9 }, (_, i) => `memory.${i}.memMatrix:parameter:8,${D}`),
    );
    const before = memory.map((e) => Array.from(e.variable.dataSync()));
    const x = input();
    const { value, grads } = tf.variableGrads(
      () => tf.sum(tf.square(b.apply(x, { training: true, rng: Rng.fromSeed(4) }))) as tf.Scalar,
      memory.map((e) => e.variable),
    );
    b.updateQueues();
    for (const e of memory) {
      const g = grads[e.variable.name];
      expect(
        tf.tidy(() => tf.abs(g).max().dataSync()[0]),
        e.name,
      ).toBeGreaterThan(0);
    }
    // No write: the memories are what they were (only an optimizer would move them).
    expect(memory.map((e) => Array.from(e.variable.dataSync()))).toEqual(before);
    tf.dispose([value, ...Object.values(grads), x]);
    b.dispose();
  });

  it('reads its memory as the queue does: same memory contents, same output', () => {
    const queue = block();
    const matrix = block({ memory: 'matrix' });
    copyShared(queue, matrix);
    const x = input();
    expect(matrix.apply(x, { training: false }).arraySync()).toEqual(
      queue.apply(x, { training: false }).arraySync(),
    );
    tf.dispose(x);
    queue.dispose();
    matrix.dispose();
  });
});

describe('InpaintBlock shared memory', () => {
  it('reads one memory for all positions: equals the per-position block whose queues all hold it', () => {
    const shared = block({ shared: true });
    expect(shared.queues).toHaveLength(1);
    expect(
      shared
        .state()
        .filter((e) => e.name.startsWith('memory.'))
        .map((e) => e.name),
    ).toEqual(['memory.0.memMatrix', 'memory.0.ptr']);
    const perPosition = block();
    copyShared(shared, perPosition);
    for (const q of perPosition.queues) q.memory.assign(shared.queues[0].memory);
    const x = input();
    const a = shared.apply(x, { training: false });
    const b = perPosition.apply(x, { training: false });
    expect(a.arraySync()).toEqual(b.arraySync());
    // …and differs from the block with its own per-position memories (the test can fail).
    const own = block();
    copyShared(shared, own);
    expect(own.apply(x, { training: false }).arraySync()).not.toEqual(a.arraySync());
    tf.dispose([a, b, x]);
    for (const k of [shared, perPosition, own]) k.dispose();
  });

  it('writes the features of all B·P² patches, in row order, into the one queue', () => {
    const shared = block({ shared: true, slots: 24 });
    const x = input(18); // B = 2
    const capture = new Map<string, tf.Tensor>();
    tf.dispose(shared.apply(x, { training: true, rng: Rng.fromSeed(5), capture }));
    const before = shared.queues[0].memory.arraySync() as number[][];
    shared.updateQueues();
    const queueIn = capture.get('queue_in')?.arraySync() as number[][][]; // [B, P², dim]
    const q = shared.queues[0];
    expect(q.pointer).toBe(18);
    const m = q.memory.arraySync() as number[][];
    expect(m.slice(0, 18)).toEqual(queueIn.flat());
    expect(m.slice(18)).toEqual(before.slice(18));
    tf.dispose([...capture.values(), x]);
    shared.dispose();
  });
});

describe('InpaintBlock softmax addressing', () => {
  it('reads with dense softmax weights instead of top-k', () => {
    const attentionRows = (b: InpaintBlock) => {
      const capture = new Map<string, tf.Tensor>();
      const x = input();
      tf.dispose(b.apply(x, { training: false, capture }));
      const rows = capture.get('queue_attention')?.reshape([-1, 8]).arraySync() as number[][];
      tf.dispose([...capture.values(), x]);
      return rows;
    };
    const dense = block({ shrink: 'softmax' });
    const sparse = block();
    const queueIn = (() => {
      const capture = new Map<string, tf.Tensor>();
      const x = input();
      tf.dispose(dense.apply(x, { training: false, capture }));
      const v = capture.get('queue_in')?.arraySync() as number[][][];
      tf.dispose([...capture.values(), x]);
      return v;
    })();
    const rows = attentionRows(dense);
    // Row (b, n) = softmax(f_bn · M_nᵀ), computed here in float64.
    const memories = dense.queues.map((q) => q.memory.arraySync() as number[][]);
    rows.forEach((row, r) => {
      const [bi, n] = [Math.floor(r / 9), r % 9];
      const logits = memories[n].map((slot) => slot.reduce((s, v, i) => s + v * queueIn[bi][n][i], 0));
      const top = Math.max(...logits);
      const e = logits.map((l) => Math.exp(l - top));
      const total = e.reduce((s, v) => s + v, 0);
      row.forEach((v, i) => {
        expect(v).toBeCloseTo(e[i] / total, 6);
      });
    });
    expect(rows.every((r) => r.every((v) => v > 0))).toBe(true);
    // The official top-3 keeps 2 entries per row.
    expect(attentionRows(sparse).every((r) => r.filter((v) => v > 0).length === 2)).toBe(true);
    dense.dispose();
    sparse.dispose();
  });
});

describe('InpaintBlock shortcut', () => {
  // Same seed, same structure: the shortcut has no weights, so these blocks share every weight.
  const run = (shortcut: 'masked' | 'residual' | 'off', ratio: number, training: boolean) => {
    const b = block({ shortcut, ratio }, 7);
    const x = input(18, 8);
    const y = b.apply(x, training ? { training, rng: Rng.fromSeed(9) } : { training });
    const out = { y: y.arraySync(), x: x.arraySync() };
    tf.dispose([x, y]);
    b.dispose();
    return out;
  };

  it('off: the output is the in-painted value alone, whatever the ratio, in training and eval', () => {
    const inpainted = run('masked', 1, true).y; // ratio 1 keeps the in-painted value everywhere
    expect(run('off', 1, true).y).toEqual(inpainted);
    expect(run('off', 0, true).y).toEqual(inpainted);
    expect(run('off', 0, false).y).toEqual(run('masked', 0, false).y);
    // The official shortcut at ratio 0 is the input itself: the comparison above can fail.
    const masked0 = run('masked', 0, true);
    expect(masked0.y).toEqual(masked0.x);
  });

  it('residual: in-painted + input, with no mask, in training and eval', () => {
    const plus = (a: number[][][][], b: number[][][][]) =>
      tf.tidy(() => tf.add(tf.tensor(a), tf.tensor(b)).arraySync() as number[][][][]);
    const masked1 = run('masked', 1, true);
    expect(run('residual', 0, true).y).toEqual(plus(masked1.y, masked1.x));
    const evalMasked = run('masked', 0.5, false);
    expect(run('residual', 0.5, false).y).toEqual(plus(evalMasked.y, evalMasked.x));
  });
});

describe('InpaintBlock ablation options', () => {
  it('rejects unknown values with the option name', () => {
    expect(() => block({ memory: 'stack' as 'queue' })).toThrow(/memory/);
    expect(() => block({ shortcut: 'none' as 'off' })).toThrow(/shortcut/);
    expect(() => block({ shrink: 'sparsemax' as 'softmax' })).toThrow(/shrink/);
  });

  it('leaves no tensors behind in any variant (build, train, update, dispose)', () => {
    const before = tf.memory().numTensors;
    for (const o of [{ memory: 'matrix' as const }, { shared: true }, { shrink: 'softmax' as const }]) {
      const b = block(o);
      const x = input();
      tf.dispose(b.apply(x, { training: true, rng: Rng.fromSeed(2) }));
      b.updateQueues();
      x.dispose();
      b.dispose();
    }
    expect(tf.memory().numTensors).toBe(before);
  });
});

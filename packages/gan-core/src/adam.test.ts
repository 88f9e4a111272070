import { fusedAdamKernel, initBackend, measurePeakMemory, setFusedAdamKernel, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from './adam.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** torch.optim.Adam written out in float64 (single tensor, amsgrad off). */
function referenceAdam(
  p0: number[],
  grads: number[][],
  o: { lr: number; betas: [number, number]; eps: number; weightDecay: number },
  lrs: number[],
): number[] {
  const p = [...p0];
  const m = p.map(() => 0);
  const v = p.map(() => 0);
  grads.forEach((gs, k) => {
    const t = k + 1;
    for (let i = 0; i < p.length; i++) {
      const g = gs[i] + o.weightDecay * p[i];
      m[i] = o.betas[0] * m[i] + (1 - o.betas[0]) * g;
      v[i] = o.betas[1] * v[i] + (1 - o.betas[1]) * g * g;
      const denom = Math.sqrt(v[i]) / Math.sqrt(1 - o.betas[1] ** t) + o.eps;
      p[i] -= (lrs[k] / (1 - o.betas[0] ** t)) * (m[i] / denom);
    }
  });
  return p;
}

describe('Adam', () => {
  it('matches a hand-computed PyTorch Adam step with weight decay', () => {
    // One step, p = 2, g = 0.5, lr 0.1, betas (0.5, 0.999), eps 1e-7, wd 0.1:
    // g' = 0.5 + 0.2 = 0.7; m = 0.35; v = 0.001·0.49 = 4.9e-4; m̂ = 0.7, √v̂ = 0.7;
    // p = 2 − 0.1 · 0.7 / (0.7 + 1e-7) = 1.90000001428...
    const w = tf.variable(tf.tensor1d([2]));
    const adam = new Adam([{ name: 'w', variable: w }], {
      lr: 0.1,
      betas: [0.5, 0.999],
      eps: 1e-7,
      weightDecay: 0.1,
    });
    adam.update({ [w.name]: tf.tensor1d([0.5]) });
    expect(w.dataSync()[0]).toBeCloseTo(2 - (0.1 * 0.7) / (0.7 + 1e-7), 6);
    expect(adam.step).toBe(1);
    adam.dispose();
    w.dispose();
  });

  it('follows the reference over several steps, with a learning-rate change', () => {
    const p0 = [0.3, -1.2, 0.05, 4];
    const grads = [
      [0.1, -0.2, 0.3, 1.5],
      [-0.4, 0.25, 0, 2],
      [0.05, -0.01, -0.3, 0.7],
    ];
    const o = { lr: 1e-2, betas: [0.5, 0.999] as [number, number], eps: 1e-7, weightDecay: 1e-2 };
    const w = tf.variable(tf.tensor1d(p0));
    const adam = new Adam([{ name: 'w', variable: w }], o);
    const lrs = [1e-2, 1e-2, 4e-3];
    grads.forEach((g, k) => {
      adam.lr = lrs[k];
      adam.update({ [w.name]: tf.tensor1d(g) });
    });
    const expected = referenceAdam(p0, grads, o, lrs);
    const got = Array.from(w.dataSync());
    for (let i = 0; i < got.length; i++) expect(got[i]).toBeCloseTo(expected[i], 6);
    // The last entry's gradient keeps its sign, so it moves by ~Σ lr: the comparison is not vacuous.
    expect(p0[3] - got[3]).toBeGreaterThan(0.02);
    adam.dispose();
    w.dispose();
  });

  it('uses the current lr and skips parameters without a gradient', () => {
    const a = tf.variable(tf.tensor1d([1]));
    const b = tf.variable(tf.tensor1d([1]));
    const adam = new Adam(
      [
        { name: 'a', variable: a },
        { name: 'b', variable: b },
      ],
      { lr: 0.5 },
    );
    adam.lr = 0.25;
    adam.update({ [a.name]: tf.tensor1d([3]) });
    // First Adam step moves by lr · sign(g) (up to eps).
    expect(a.dataSync()[0]).toBeCloseTo(0.75, 5);
    expect(b.dataSync()[0]).toBe(1);
    adam.dispose();
    a.dispose();
    b.dispose();
  });

  it('exposes moments and step as state, and restoring them continues identically', () => {
    const p0 = [0.5, -0.5];
    const w1 = tf.variable(tf.tensor1d(p0));
    const w2 = tf.variable(tf.tensor1d(p0));
    const opts = { lr: 0.05, betas: [0.5, 0.999] as [number, number] };
    const a1 = new Adam([{ name: 'w', variable: w1 }], opts);
    const g = () => tf.tensor1d([0.3, -0.7]);
    a1.update({ [w1.name]: g() });
    // Copy parameter + optimizer state into a fresh optimizer, then take one more step on each.
    w2.assign(w1);
    const a2 = new Adam([{ name: 'w', variable: w2 }], opts);
    const s1 = a1.state();
    const s2 = a2.state();
    expect(s1.map((e) => e.name)).toEqual(['exp_avg.w', 'exp_avg_sq.w', 'step']);
    for (let i = 0; i < s2.length; i++) s2[i].variable.assign(s1[i].variable);
    a1.update({ [w1.name]: g() });
    a2.update({ [w2.name]: g() });
    expect(Array.from(w2.dataSync())).toEqual(Array.from(w1.dataSync()));
    expect(a2.step).toBe(2);
    for (const x of [a1, a2, w1, w2]) x.dispose();
  });

  it('leaks no tensors', () => {
    const w = tf.variable(tf.tensor2d([1, 2, 3, 4], [2, 2]));
    const start = tf.memory().numTensors;
    const adam = new Adam([{ name: 'w', variable: w }], { weightDecay: 0.1 });
    // Two moments and the step counter, nothing else.
    expect(tf.memory().numTensors - start).toBe(3);
    const grad = tf.onesLike(w);
    const before = tf.memory().numTensors;
    adam.update({ [w.name]: grad });
    adam.update({ [w.name]: grad });
    expect(tf.memory().numTensors).toBe(before);
    grad.dispose();
    adam.dispose();
    expect(tf.memory().numTensors).toBe(start);
    w.dispose();
  });

  it('updates a large parameter with a few copies of it at most', () => {
    const w = tf.variable(tf.fill([1_000_000], 0.5));
    const adam = new Adam([{ name: 'w', variable: w }], { weightDecay: 0.1 });
    const grad = tf.fill([1_000_000], 0.01);
    adam.update({ [w.name]: grad }); // warm-up: scalars
    const { peakBytes } = measurePeakMemory(() => adam.update({ [w.name]: grad }));
    // g, m, v and the step's temporaries: 7 copies (15 with one tidy for the whole update).
    expect(peakBytes / 4e6).toBeLessThan(7.5);
    tf.dispose([grad, w]);
    adam.dispose();
  });

  it.for(['cpu', 'wasm'])(
    '%s: the native fused update equals the tensor-op update bit for bit',
    async (backend, ctx) => {
      const report = await initBackend({ backend: backend as 'cpu' | 'wasm', threads: 1 });
      // The kernel comes with @squid-ad/backend-onednn (built where oneDNN is installed, as in CI).
      const kernel = fusedAdamKernel();
      if (!kernel) ctx.skip(`no native kernels: ${report.nativeKernels.reason}`);
      let calls = 0;
      setFusedAdamKernel((...args) => {
        calls++;
        kernel!(...args);
      });
      const n = 4099;
      const values = (seed: number) =>
        Float32Array.from({ length: n }, (_, j) => Math.sin(j * 12.9898 + seed) * 0.7);
      const run = (shareBuffers: boolean) => {
        // Made in a tidy, so that the variable is the only handle on its buffer.
        const w = tf.tidy(() => tf.variable(tf.tensor1d(values(1))));
        const adam = new Adam([{ name: 'w', variable: w }], {
          lr: 3e-3,
          betas: [0.5, 0.999],
          eps: 1e-7,
          weightDecay: 1e-2,
        });
        // A second handle on the parameter's buffer forces the tensor-op path, and must not change.
        const first = shareBuffers ? w.clone() : undefined;
        for (let step = 0; step < 3; step++) {
          const held = shareBuffers && step > 0 ? w.clone() : undefined;
          const g = tf.tensor1d(values(step + 2));
          adam.update({ [w.name]: g });
          tf.dispose([g, ...(held ? [held] : [])]);
        }
        if (first) expect(Array.from(first.dataSync())).toEqual(Array.from(values(1)));
        first?.dispose();
        const out = [w, ...adam.state().map((e) => e.variable)].map((v) => Array.from(v.dataSync()));
        w.dispose();
        adam.dispose();
        return out;
      };
      try {
        const fused = run(false);
        expect(calls).toBe(3);
        const tensor = run(true);
        expect(calls).toBe(3);
        expect(fused[0]).not.toEqual(Array.from(values(1)));
        expect(fused).toEqual(tensor);
      } finally {
        setFusedAdamKernel(kernel);
        await initBackend({ backend: 'cpu' });
      }
    },
  );

  it('rejects bad options', () => {
    expect(() => new Adam([], { lr: -1 })).toThrow(/lr must be positive/);
    expect(() => new Adam([], { betas: [1, 0.9] })).toThrow(/betas/);
  });
});

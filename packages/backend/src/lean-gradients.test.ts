import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from './init-backend.js';
import { installLeanGradients, leanGradientsInstalled, uninstallLeanGradients } from './lean-gradients.js';
import { measurePeakMemory } from './peak-memory.js';
import { Rng } from './rng.js';
import { tf } from './tf.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
afterAll(() => installLeanGradients());

/** Runs `fn` with tfjs's own backward pass, then with the lean one. */
function both<T>(fn: () => T): { stock: T; lean: T } {
  uninstallLeanGradients();
  const stock = fn();
  installLeanGradients();
  const lean = fn();
  return { stock, lean };
}

const values = (ts: tf.Tensor[]) => ts.map((t) => Array.from(t.dataSync()));

function randn(shape: number[], seed: number): tf.Tensor {
  const r = Rng.fromSeed(seed);
  return tf.tensor(
    Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => r.next() - 0.5),
    shape,
  );
}

// A tensor used by three consumers (shared gradient accumulation), a custom op that returns its
// dy unchanged for two inputs (aliased gradients), conv, matMul, broadcasting and a reduction.
const w1 = tf.variable(randn([3, 3, 2, 4], 1));
const w2 = tf.variable(randn([4 * 4 * 4, 3], 2));
const b2 = tf.variable(randn([3], 3));
const passThrough = tf.customGrad(((a: tf.Tensor, b: tf.Tensor) => ({
  value: tf.add(a, b),
  gradFunc: (dy: tf.Tensor) => [dy, dy],
})) as unknown as Parameters<typeof tf.customGrad>[0]);

function loss(x: tf.Tensor): tf.Scalar {
  const h = tf.relu(tf.conv2d(x as tf.Tensor4D, w1 as tf.Tensor4D, 2, 'same'));
  const s = passThrough(h, tf.mul(h, h)) as tf.Tensor;
  const flat = tf.add(s, h).reshape([x.shape[0], -1]) as tf.Tensor2D;
  const z = tf.add(tf.matMul(flat, w2 as tf.Tensor2D), b2);
  return tf.add(tf.mean(tf.square(z)), tf.mean(tf.mul(h, 0.1))) as tf.Scalar;
}

describe('lean gradients', () => {
  it('is installed by importing tf', () => {
    expect(leanGradientsInstalled()).toBe(true);
  });

  it('gives bit-identical values and gradients to tfjs, without leaks', () => {
    const x = randn([2, 8, 8, 2], 4);
    const { stock, lean } = both(() => {
      const before = tf.memory().numTensors;
      const { value, grads } = tf.variableGrads(() => loss(x));
      const out = [value, ...Object.values(grads)];
      const v = values(out);
      tf.dispose(out);
      return { v, leaked: tf.memory().numTensors - before };
    });
    expect(lean.leaked).toBe(0);
    expect(stock.leaked).toBe(0);
    expect(lean.v).toEqual(stock.v);
    expect(lean.v[1].some((g) => g !== 0)).toBe(true);
  });

  it('keeps the caller’s dy and gradients with respect to inputs', () => {
    const x = randn([2, 8, 8, 2], 5);
    const dy = tf.scalar(3);
    const { stock, lean } = both(() => {
      const [g] = tf.grads((a: tf.Tensor) => loss(a))([x], dy);
      const v = values([g]);
      g.dispose();
      return v;
    });
    expect(dy.isDisposed).toBe(false);
    expect(lean).toEqual(stock);
  });

  it('leaves nested and higher-order gradients to tfjs (they still work)', () => {
    // d²/dx² x³ = 6x.
    const g2 = tf.grad(tf.grad((x: tf.Tensor) => tf.pow(x, 3)));
    expect(Array.from(g2(tf.tensor1d([1, 2])).dataSync())).toEqual([6, 12]);
    // A step taken inside another step's tape, as the trainer does.
    const x = randn([1, 8, 8, 2], 6);
    const { stock, lean } = both(() => {
      let inner: number[] = [];
      const { value, grads } = tf.variableGrads(() => {
        const { grads: g } = tf.variableGrads(() => loss(tf.mul(x, 2)), [w2]);
        inner = Array.from(g[w2.name].dataSync());
        tf.dispose(g);
        return loss(x);
      });
      const v = [inner, ...values([value, ...Object.values(grads)])];
      tf.dispose([value, ...Object.values(grads)]);
      return v;
    });
    expect(lean).toEqual(stock);
  });

  it('frees as it goes: a deep chain peaks at a fraction of tfjs’s memory', () => {
    const x = randn([256, 1024], 7);
    const w = tf.variable(tf.fill([1024], 0.9));
    const unit = x.size * 4;
    // 20 layers (each in a tidy, as model code does), each keeping its output for the backward
    // pass: tfjs also keeps every intermediate gradient to the end; lean frees both as it goes.
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        let h = x;
        for (let i = 0; i < 20; i++) h = tf.tidy(() => tf.tanh(tf.mul(h, w)));
        return tf.sum(h) as tf.Scalar;
      }, [w]);
      tf.dispose([value, ...Object.values(grads)]);
    };
    uninstallLeanGradients();
    const stock = measurePeakMemory(step);
    installLeanGradients();
    const lean = measurePeakMemory(step);
    expect(stock.endBytes).toBe(0);
    expect(lean.endBytes).toBe(0);
    // Saved: 20 outputs; tfjs adds 20 gradients and their temporaries, lean a few.
    // Measured: tfjs 63 units, lean 25.
    expect(stock.peakBytes / unit).toBeGreaterThan(50);
    expect(lean.peakBytes / unit).toBeLessThanOrEqual(26);
    w.dispose();
  });

  it('frees the temporaries of custom gradient functions node by node', () => {
    const x = randn([256, 1024], 8);
    const unit = x.size * 4;
    // d/dx of x·2 computed wastefully: four temporaries per call.
    const double = tf.customGrad(((a: tf.Tensor) => ({
      value: tf.mul(a, 2),
      gradFunc: (dy: tf.Tensor) => tf.sub(tf.add(tf.mul(dy, 3), tf.mul(dy, 1)), tf.mul(dy, 2)),
    })) as unknown as Parameters<typeof tf.customGrad>[0]);
    const w = tf.variable(tf.fill([1024], 1));
    const step = () => {
      const { value, grads } = tf.variableGrads(() => {
        let h = tf.mul(x, w);
        for (let i = 0; i < 20; i++) h = tf.tidy(() => double(h) as tf.Tensor);
        return tf.sum(h) as tf.Scalar;
      }, [w]);
      const g = grads[w.name].dataSync()[0];
      tf.dispose([value, ...Object.values(grads)]);
      return g;
    };
    uninstallLeanGradients();
    const stock = measurePeakMemory(step);
    installLeanGradients();
    const lean = measurePeakMemory(step);
    expect(lean.result).toBe(stock.result);
    // tfjs keeps 5 tensors per layer to the end (measured: 104 units); lean peaks at the end of
    // the forward pass (21: the 20 layer outputs and x·w).
    expect(stock.peakBytes / unit).toBeGreaterThan(80);
    expect(lean.peakBytes / unit).toBeLessThan(25);
  });
});

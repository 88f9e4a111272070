import { initBackend, Rng, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { disableNativeKernels, enableNativeKernels, nativeAvailable, nativeKernelStats } from './index.js';

const { available, reason } = nativeAvailable();
const skip = available ? '' : ` [skipped: ${reason}]`;

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

/** x, filter and dy for one conv geometry, from a seeded Rng. */
function convData(
  rng: Rng,
  n: number,
  hw: number,
  c: number,
  k: number,
  o: number,
  stride: number,
  pad: Pad,
): { x: Float32Array; w: Float32Array; dy: Float32Array; outShape: number[] } {
  const info = tf.backend_util.computeConv2DInfo([n, hw, hw, c], [k, k, c, o], stride, 1, pad);
  const fill = (len: number) => Float32Array.from({ length: len }, () => rng.uniform(-1, 1));
  return {
    x: fill(n * hw * hw * c),
    w: fill(k * k * c * o),
    dy: fill(tf.util.sizeFromShape(info.outShape)),
    outShape: info.outShape,
  };
}

type Case = {
  name: string;
  n: number;
  hw: number;
  c: number;
  k: number;
  o: number;
  stride: number;
  pad: Pad;
};
const torchPad = (p: number): Pad => [
  [0, 0],
  [p, p],
  [p, p],
  [0, 0],
];
const CASES: Case[] = [];
for (const n of [1, 16]) {
  for (const k of [1, 3, 5]) {
    for (const stride of [1, 2]) {
      CASES.push({
        name: `b${n} ${k}x${k} s${stride} same`,
        n,
        hw: n === 1 ? 12 : 8,
        c: 8,
        k,
        o: 16,
        stride,
        pad: 'same',
      });
      CASES.push({
        name: `b${n} ${k}x${k} s${stride} pad${(k - 1) / 2}`,
        n,
        hw: n === 1 ? 11 : 7,
        c: 6,
        k,
        o: 12,
        stride,
        pad: torchPad((k - 1) / 2),
      });
    }
  }
}
CASES.push({
  name: 'b2 5x5 s2 asymmetric pad',
  n: 2,
  hw: 10,
  c: 3,
  k: 5,
  o: 7,
  stride: 2,
  pad: [
    [0, 0],
    [1, 2],
    [2, 1],
    [0, 0],
  ],
});
CASES.push({ name: 'b2 3x3 s2 valid', n: 2, hw: 10, c: 4, k: 3, o: 5, stride: 2, pad: 'valid' });
CASES.push({
  name: 'b18 3x3 s1 48->16 (fixture up_blocks.1 channels)',
  n: 18,
  hw: 4,
  c: 48,
  k: 3,
  o: 16,
  stride: 1,
  pad: torchPad(1),
});

type Op = 'Conv2D' | 'Conv2DBackpropInput' | 'Conv2DBackpropFilter';

/** Runs one conv kernel on the active backend and returns its values. */
function runConv(op: Op, cs: Case, d: ReturnType<typeof convData>): Float32Array {
  const { n, hw, c, k, o, stride, pad } = cs;
  return tf.tidy(() => {
    const base = { strides: stride, pad, dataFormat: 'NHWC', dilations: 1 };
    const attrs = (extra: object = {}) => ({ ...base, ...extra }) as unknown as tf.NamedAttrMap;
    const x = tf.tensor4d(d.x, [n, hw, hw, c]);
    const w = tf.tensor4d(d.w, [k, k, c, o]);
    const dy = tf.tensor(d.dy, d.outShape);
    let out: tf.Tensor;
    if (op === 'Conv2D') {
      out = tf.engine().runKernel('Conv2D', { x, filter: w }, attrs()) as tf.Tensor;
    } else if (op === 'Conv2DBackpropInput') {
      out = tf
        .engine()
        .runKernel(
          'Conv2DBackpropInput',
          { dy, filter: w },
          attrs({ inputShape: [n, hw, hw, c] }),
        ) as tf.Tensor;
    } else {
      out = tf
        .engine()
        .runKernel('Conv2DBackpropFilter', { x, dy }, attrs({ filterShape: [k, k, c, o] })) as tf.Tensor;
    }
    return out.dataSync() as Float32Array;
  });
}

/** max |a - b| / max |b|: the error relative to the reference's scale. */
function relErr(a: Float32Array, b: Float32Array): number {
  expect(a.length).toBe(b.length);
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return diff / scale;
}

describe('oneDNN kernels against the TF.js cpu kernels', () => {
  const worst: Record<string, number> = {};

  beforeAll(async () => {
    // Registers wasm too, so tests can switch between the two backends.
    await initBackend({ backend: 'wasm', nativeKernels: false });
    await initBackend({ backend: 'cpu', nativeKernels: false });
  });
  afterAll(() => {
    disableNativeKernels();
    if (available) console.log('worst relative error per op:', JSON.stringify(worst));
  });

  for (const op of ['Conv2D', 'Conv2DBackpropInput', 'Conv2DBackpropFilter'] as const) {
    it.skipIf(!available)(
      `${op} on cpu and wasm tensors within 1e-5 on ${CASES.length} geometries${skip}`,
      async () => {
        const rng = Rng.fromSeed(7);
        for (const cs of CASES) {
          const d = convData(rng, cs.n, cs.hw, cs.c, cs.k, cs.o, cs.stride, cs.pad);
          await tf.setBackend('cpu');
          disableNativeKernels();
          const ref = runConv(op, cs, d);
          enableNativeKernels({ backends: ['cpu', 'wasm'] });
          // oneDNN #6035: strided 1x1 filter gradients with few channels stay with TF.js.
          const served = op === 'Conv2DBackpropFilter' && cs.k === 1 && cs.stride > 1 && cs.c < 16 ? 0 : 1;
          const before = nativeKernelStats()[`cpu/${op}`].native;
          const onCpu = runConv(op, cs, d);
          expect(nativeKernelStats()[`cpu/${op}`].native, cs.name).toBe(before + served);
          await tf.setBackend('wasm');
          const beforeWasm = nativeKernelStats()[`wasm/${op}`].native;
          const onWasm = runConv(op, cs, d);
          expect(nativeKernelStats()[`wasm/${op}`].native, cs.name).toBe(beforeWasm + served);
          for (const [where, got] of [
            ['cpu', onCpu],
            ['wasm', onWasm],
          ] as const) {
            const err = relErr(got, ref);
            worst[op] = Math.max(worst[op] ?? 0, err);
            expect(err, `${op} ${cs.name} on ${where}`).toBeLessThan(1e-5);
          }
        }
        await tf.setBackend('cpu');
      },
    );
  }

  it.skipIf(!available)(`conv forward equals a float64 loop on a 2x5x5x2 -> 3 case${skip}`, async () => {
    await tf.setBackend('wasm');
    enableNativeKernels({ backends: ['wasm'] });
    const x = Float32Array.from({ length: 2 * 5 * 5 * 2 }, (_, i) => Math.sin(i * 0.7));
    const w = Float32Array.from({ length: 3 * 3 * 2 * 3 }, (_, i) => Math.cos(i * 1.3));
    const got = tf.tidy(
      () =>
        tf
          .conv2d(tf.tensor4d(x, [2, 5, 5, 2]), tf.tensor4d(w, [3, 3, 2, 3]), 2, torchPad(1) as never)
          .dataSync() as Float32Array,
    );
    // PyTorch semantics: stride 2, 1 pixel of zeros on every side -> 3x3 output.
    const want = new Float64Array(2 * 3 * 3 * 3);
    for (let b = 0; b < 2; b++)
      for (let oy = 0; oy < 3; oy++)
        for (let ox = 0; ox < 3; ox++)
          for (let oc = 0; oc < 3; oc++) {
            let s = 0;
            for (let ky = 0; ky < 3; ky++)
              for (let kx = 0; kx < 3; kx++)
                for (let ic = 0; ic < 2; ic++) {
                  const iy = oy * 2 - 1 + ky;
                  const ix = ox * 2 - 1 + kx;
                  if (iy < 0 || ix < 0 || iy >= 5 || ix >= 5) continue;
                  s += x[((b * 5 + iy) * 5 + ix) * 2 + ic] * w[((ky * 3 + kx) * 2 + ic) * 3 + oc];
                }
            want[((b * 3 + oy) * 3 + ox) * 3 + oc] = s;
          }
    expect(relErr(got, Float32Array.from(want))).toBeLessThan(1e-6);
    await tf.setBackend('cpu');
  });
});

/** The unfused reference of a fused activation; inputs scaled x4 so relu6 clips somewhere. */
function act(activation: 'relu' | 'leakyrelu' | 'relu6' | 'linear', y: tf.Tensor): tf.Tensor {
  if (activation === 'relu') return tf.relu(y);
  if (activation === 'leakyrelu') return tf.leakyRelu(y, 0.1);
  if (activation === 'relu6') return tf.relu6(y);
  return y;
}

describe('oneDNN batched matMul', () => {
  beforeAll(async () => {
    // Registers wasm too, so tests can switch between the two backends.
    await initBackend({ backend: 'wasm', nativeKernels: false });
    await initBackend({ backend: 'cpu', nativeKernels: false });
  });
  afterAll(() => disableNativeKernels());

  const shapes: { name: string; a: number[]; b: number[] }[] = [
    { name: 'rank 2', a: [7, 5], b: [5, 9] },
    { name: 'batch 16', a: [16, 9, 64], b: [16, 64, 16] },
    { name: 'batch broadcast a', a: [1, 9, 33], b: [4, 33, 6] },
    { name: 'batch broadcast b', a: [3, 2, 8, 12], b: [12, 5] },
  ];

  it.skipIf(!available)(
    `BatchMatMul with every transpose within 1e-5 of cpu, on cpu and wasm${skip}`,
    async () => {
      const rng = Rng.fromSeed(11);
      const count = (k: string) => nativeKernelStats()[k]?.native ?? 0;
      const [wasm0, cpu0] = [count('wasm/BatchMatMul'), count('cpu/BatchMatMul')];
      let checked = 0;
      for (const s of shapes) {
        for (const ta of [false, true]) {
          for (const tb of [false, true]) {
            const swap = (shape: number[], t: boolean) =>
              t ? [...shape.slice(0, -2), shape[shape.length - 1], shape[shape.length - 2]] : shape;
            const aShape = swap(s.a, ta);
            const bShape = swap(s.b, tb);
            const a = Float32Array.from({ length: tf.util.sizeFromShape(aShape) }, () => rng.uniform(-1, 1));
            const b = Float32Array.from({ length: tf.util.sizeFromShape(bShape) }, () => rng.uniform(-1, 1));
            const run = () =>
              tf.tidy(
                () =>
                  tf.matMul(tf.tensor(a, aShape), tf.tensor(b, bShape), ta, tb).dataSync() as Float32Array,
              );
            await tf.setBackend('cpu');
            disableNativeKernels();
            const ref = run();
            enableNativeKernels();
            const cpu = run();
            await tf.setBackend('wasm');
            const wasm = run();
            expect(relErr(cpu, ref), `${s.name} ta=${ta} tb=${tb} cpu`).toBeLessThan(1e-5);
            expect(relErr(wasm, ref), `${s.name} ta=${ta} tb=${tb} wasm`).toBeLessThan(1e-5);
            checked++;
          }
        }
      }
      expect(checked).toBe(16);
      expect(count('wasm/BatchMatMul') - wasm0).toBe(16);
      expect(count('cpu/BatchMatMul') - cpu0).toBe(16);
      await tf.setBackend('cpu');
    },
  );

  it.skipIf(!available)(
    `fused matMul and conv (bias + relu / leakyrelu / relu6) match the unfused cpu ops${skip}`,
    async () => {
      const rng = Rng.fromSeed(3);
      const count = (k: string) => nativeKernelStats()[k]?.native ?? 0;
      const [mm0, conv0] = [count('wasm/_FusedMatMul'), count('wasm/FusedConv2D')];
      const fill = (shape: number[]) =>
        tf.tensor(
          Float32Array.from({ length: tf.util.sizeFromShape(shape) }, () => 4 * rng.uniform(-1, 1)),
          shape,
        );
      await tf.setBackend('wasm');
      const a = fill([6, 10]);
      const b = fill([8, 10]);
      const bias = fill([8]);
      const x = fill([2, 7, 7, 3]);
      const w = fill([3, 3, 3, 8]);
      for (const activation of ['relu', 'leakyrelu', 'relu6', 'linear'] as const) {
        disableNativeKernels();
        await tf.setBackend('cpu');
        const move = (t: tf.Tensor) => tf.tensor(t.dataSync(), t.shape);
        const [ca, cb, cbias, cx, cw] = [a, b, bias, x, w].map(move);
        const refMm = tf.tidy(() => {
          const y = tf.add(tf.matMul(ca, cb, false, true), cbias);
          return act(activation, y).dataSync() as Float32Array;
        });
        const refConv = tf.tidy(() => {
          const y = tf.add(tf.conv2d(cx as tf.Tensor4D, cw as tf.Tensor4D, 1, 'same'), cbias);
          return act(activation, y).dataSync() as Float32Array;
        });
        tf.dispose([ca, cb, cbias, cx, cw]);
        await tf.setBackend('wasm');
        enableNativeKernels({ backends: ['wasm'] });
        const mm = tf.tidy(
          () =>
            tf.fused
              .matMul({
                a: a as tf.Tensor2D,
                b: b as tf.Tensor2D,
                transposeB: true,
                bias,
                activation,
                leakyreluAlpha: 0.1,
              })
              .dataSync() as Float32Array,
        );
        const conv = tf.tidy(
          () =>
            tf.fused
              .conv2d({
                x: x as tf.Tensor4D,
                filter: w as tf.Tensor4D,
                strides: 1,
                pad: 'same',
                bias,
                activation,
                leakyreluAlpha: 0.1,
              })
              .dataSync() as Float32Array,
        );
        if (activation === 'relu6') {
          // The clip must actually bite for the comparison to mean anything.
          expect(refMm.filter((v) => v === 6).length).toBeGreaterThan(0);
          expect(refConv.filter((v) => v === 6).length).toBeGreaterThan(0);
        }
        expect(relErr(mm, refMm), `matMul ${activation}`).toBeLessThan(1e-5);
        expect(relErr(conv, refConv), `conv ${activation}`).toBeLessThan(1e-5);
      }
      expect(count('wasm/_FusedMatMul') - mm0).toBe(4);
      expect(count('wasm/FusedConv2D') - conv0).toBe(4);
      tf.dispose([a, b, bias, x, w]);
      await tf.setBackend('cpu');
    },
  );
});

import { initBackend, Rng, tf } from '@squid-ad/backend';
import { beforeAll, describe, expect, it } from 'vitest';
import { DcganDecoder } from './decoder.js';
import { DcganEncoder } from './encoder.js';
import { cropTo, nextPowerOfTwo, padToPowerOfTwo } from './pad.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});

/** Mean and standard deviation of a tensor's values. */
function moments(t: tf.Tensor): { mean: number; std: number } {
  const v = t.dataSync();
  let s = 0;
  for (const x of v) s += x;
  const mean = s / v.length;
  let q = 0;
  for (const x of v) q += (x - mean) ** 2;
  return { mean, std: Math.sqrt(q / v.length) };
}

describe('DcganEncoder / DcganDecoder', () => {
  it('has the official module names and shapes at 64 px (nz 100, ngf 64, nc 1)', () => {
    const rng = Rng.fromSeed(1);
    const enc = new DcganEncoder({ imageSize: 64, nz: 100, ngf: 64, nc: 1, rng });
    const dec = new DcganDecoder({ imageSize: 64, nz: 100, ngf: 64, nc: 1, rng });
    const bn = (m: string, c: number) => [
      [`main.${m}.weight`, c],
      [`main.${m}.bias`, c],
      [`main.${m}.running_mean`, c],
      [`main.${m}.running_var`, c],
      [`main.${m}.num_batches_tracked`, ''],
    ];
    // names and PyTorch shapes (OIHW; ConvTranspose [in, out, k, k]) as netG.encoder1 / netG.decoder print them
    expect(
      enc
        .state()
        .map((e) => [
          e.name,
          e.layout === 'conv' ? [3, 2, 0, 1].map((i) => e.variable.shape[i]).join() : e.variable.shape.join(),
        ]),
    ).toEqual([
      ['main.initial-conv-1-64.weight', '64,1,4,4'],
      ['main.pyramid-64-128-conv.weight', '128,64,4,4'],
      ...bn('pyramid-128-batchnorm', 128).map(([n, c]) => [n, String(c)]),
      ['main.pyramid-128-256-conv.weight', '256,128,4,4'],
      ...bn('pyramid-256-batchnorm', 256).map(([n, c]) => [n, String(c)]),
      ['main.pyramid-256-512-conv.weight', '512,256,4,4'],
      ...bn('pyramid-512-batchnorm', 512).map(([n, c]) => [n, String(c)]),
      ['main.final-512-1-conv.weight', '100,512,4,4'],
    ]);
    expect(
      dec
        .state()
        .map((e) => [
          e.name,
          e.layout === 'conv' ? [3, 2, 0, 1].map((i) => e.variable.shape[i]).join() : e.variable.shape.join(),
        ]),
    ).toEqual([
      ['main.initial-100-512-convt.weight', '100,512,4,4'],
      ...bn('initial-512-batchnorm', 512).map(([n, c]) => [n, String(c)]),
      ['main.pyramid-512-256-convt.weight', '512,256,4,4'],
      ...bn('pyramid-256-batchnorm', 256).map(([n, c]) => [n, String(c)]),
      ['main.pyramid-256-128-convt.weight', '256,128,4,4'],
      ...bn('pyramid-128-batchnorm', 128).map(([n, c]) => [n, String(c)]),
      ['main.pyramid-128-64-convt.weight', '128,64,4,4'],
      ...bn('pyramid-64-batchnorm', 64).map(([n, c]) => [n, String(c)]),
      ['main.final-64-1-convt.weight', '64,1,4,4'],
    ]);
    // the Sequential indices GANomaly's discriminator re-wraps as features.<i> / classifier.0
    expect(enc.modules().map((m) => m.index)).toEqual([0, 2, 3, 5, 6, 8, 9, 11]);
    enc.dispose();
    dec.dispose();
  });

  it.each([
    [16, [8, 4], 2, [4, 8, 16]],
    [32, [16, 8, 4], 4, [4, 8, 16, 32]],
    [128, [64, 32, 16, 8, 4], 16, [4, 8, 16, 32, 64, 128]],
  ])(
    '%i px: the fact sheet table (encoder sides %j, decoder from ngf·%i channels)',
    (size, encSides, c0, decSides) => {
      const rng = Rng.fromSeed(2);
      const ngf = 2;
      const enc = new DcganEncoder({ imageSize: size, nz: 3, ngf, nc: 1, rng });
      const dec = new DcganDecoder({ imageSize: size, nz: 3, ngf, nc: 1, rng });
      expect([enc.initial, ...enc.pyramid.map((l) => l.conv)].map((c) => c.weight.shape[3])).toEqual(
        encSides.map((_, i) => ngf * 2 ** i),
      );
      expect(enc.featureChannels).toBe((ngf * size) / 8);
      expect(dec.initialNorm.channels).toBe(ngf * c0);
      const x = tf.randomUniform([2, size, size, 1], -1, 1, 'float32', 3) as tf.Tensor4D;
      const f = enc.features(x, { training: true });
      expect(f.shape).toEqual([2, 4, 4, enc.featureChannels]);
      const z = enc.apply(x, { training: true });
      expect(z.shape).toEqual([2, 1, 1, 3]);
      const y = dec.apply(z, { training: true });
      expect(y.shape).toEqual([2, size, size, 1]);
      expect(decSides.at(-1)).toBe(size);
      expect(dec.pyramid.length).toBe(decSides.length - 2);
      const v = y.dataSync();
      expect(Math.max(...v.map(Math.abs))).toBeLessThan(1);
      tf.dispose([x, f, z, y]);
      enc.dispose();
      dec.dispose();
    },
  );

  it('refuses sizes that are not powers of two ≥ 16', () => {
    const rng = Rng.fromSeed(0);
    expect(() => new DcganEncoder({ imageSize: 96, nz: 4, ngf: 2, nc: 1, rng })).toThrow(
      /power of two ≥ 16, got 96/,
    );
    expect(() => new DcganDecoder({ imageSize: 8, nz: 4, ngf: 2, nc: 1, rng })).toThrow(/got 8/);
  });

  it('initialises as weights_init: conv N(0, 0.02), BN γ N(1, 0.02), β 0; seeded; reset keeps running statistics', () => {
    const enc = new DcganEncoder({ imageSize: 64, nz: 100, ngf: 16, nc: 1, rng: Rng.fromSeed(7) });
    const w = moments(enc.pyramid[2].conv.weight); // 64·128·16 = 131 k draws: σ estimated to ±0.2 %
    expect(Math.abs(w.mean)).toBeLessThan(2.5e-4); // standard error 5.5e-5
    expect(Math.abs(w.std - 0.02)).toBeLessThan(2e-4);
    const g = moments(enc.pyramid[2].norm.weight);
    expect(Math.abs(g.mean - 1)).toBeLessThan(0.008); // 128 draws: standard error 0.0018
    expect(g.std).toBeGreaterThan(0.015);
    expect(g.std).toBeLessThan(0.025);
    expect(enc.pyramid[2].norm.bias.dataSync().every((v) => v === 0)).toBe(true);
    const again = new DcganEncoder({ imageSize: 64, nz: 100, ngf: 16, nc: 1, rng: Rng.fromSeed(7) });
    expect(again.final.weight.dataSync()).toEqual(enc.final.weight.dataSync());
    // a training forward moves the running statistics; reset draws new weights but keeps them
    tf.tidy(() =>
      enc.apply(tf.randomUniform([2, 64, 64, 1], -1, 1, 'float32', 1) as tf.Tensor4D, { training: true }),
    );
    const runningBefore = enc.pyramid[0].norm.runningMean.dataSync().slice();
    expect(runningBefore.some((v) => v !== 0)).toBe(true);
    const weightBefore = enc.initial.weight.dataSync().slice();
    enc.reset(Rng.fromSeed(8));
    expect(enc.pyramid[0].norm.runningMean.dataSync()).toEqual(runningBefore);
    expect(enc.initial.weight.dataSync()).not.toEqual(weightBefore);
    enc.dispose();
    again.dispose();
  });

  it('in eval mode an image gives the same latent and reconstruction alone as in a batch', () => {
    const rng = Rng.fromSeed(4);
    const enc = new DcganEncoder({ imageSize: 32, nz: 5, ngf: 4, nc: 1, rng });
    const dec = new DcganDecoder({ imageSize: 32, nz: 5, ngf: 4, nc: 1, rng });
    tf.tidy(() => {
      const x = tf.randomUniform([3, 32, 32, 1], -1, 1, 'float32', 9) as tf.Tensor4D;
      dec.apply(enc.apply(x, { training: true }), { training: true }); // running statistics move away from 0/1
      const all = dec.apply(enc.apply(x, { training: false }), { training: false });
      const one = dec.apply(enc.apply(x.slice([1, 0, 0, 0], [1, -1, -1, -1]), { training: false }), {
        training: false,
      });
      expect(
        tf.max(tf.abs(tf.sub(all.slice([1, 0, 0, 0], [1, -1, -1, -1]), one))).dataSync()[0],
      ).toBeLessThan(1e-6);
      // and in training mode it does depend on the batch (the test can tell the two apart)
      const allT = enc.apply(x, { training: true });
      const oneT = enc.apply(x.slice([1, 0, 0, 0], [2, -1, -1, -1]), { training: true });
      expect(
        tf
          .max(
            tf.abs(
              tf.sub(allT.slice([1, 0, 0, 0], [1, -1, -1, -1]), oneT.slice([0, 0, 0, 0], [1, -1, -1, -1])),
            ),
          )
          .dataSync()[0],
      ).toBeGreaterThan(1e-4);
    });
    enc.dispose();
    dec.dispose();
  });
});

describe('padToPowerOfTwo / cropTo', () => {
  it('gives the next power of two ≥ 16', () => {
    expect([1, 16, 17, 48, 64, 96, 128, 129].map(nextPowerOfTwo)).toEqual([
      16, 16, 32, 64, 64, 128, 128, 256,
    ]);
  });

  it.each([
    [48, 64, 8],
    [96, 128, 16],
    [5, 16, 5],
  ])('%i px → %i px, centred (%i rows/columns before)', (side, padded, before) => {
    tf.tidy(() => {
      const data = Float32Array.from({ length: 2 * side * side * 2 }, (_, i) => i + 1);
      const x = tf.tensor4d(data, [2, side, side, 2]);
      const p = padToPowerOfTwo(x);
      expect(p.shape).toEqual([2, padded, padded, 2]);
      const v = p.arraySync();
      // the image's first pixel sits at (before, before); everything outside the window is 0
      expect(v[0][before][before]).toEqual([1, 2]);
      expect(v[1][before + side - 1][before + side - 1]).toEqual([data.length - 1, data.length]);
      let outside = 0;
      let sum = 0;
      for (const img of v)
        for (let r = 0; r < padded; r++)
          for (let c = 0; c < padded; c++) {
            const inside = r >= before && r < before + side && c >= before && c < before + side;
            for (const ch of img[r][c])
              if (!inside) outside += Math.abs(ch);
              else sum += ch;
          }
      expect(outside).toBe(0);
      expect(sum).toBe((data.length * (data.length + 1)) / 2);
      expect(cropTo(p, side).dataSync()).toEqual(data);
    });
  });

  it('copies a power-of-two image unchanged and refuses non-square or too-small crops', () => {
    tf.tidy(() => {
      const x = tf.ones([1, 128, 128, 1]) as tf.Tensor4D;
      const p = padToPowerOfTwo(x);
      expect(p).not.toBe(x);
      expect(p.shape).toEqual([1, 128, 128, 1]);
      expect(() => padToPowerOfTwo(tf.ones([1, 4, 5, 1]) as tf.Tensor4D)).toThrow(/square, got 4×5/);
      expect(() => cropTo(x, 129)).toThrow(/cannot crop 128×128 to 129×129/);
    });
  });
});

// Data-loading throughput, printed as JSON lines:
//  - CPU ms per image of each stage (decode, resize, augment) for 16-bit PNG and JPEG radiographs,
//    with the one-core images/s they add up to;
//  - the chest pipeline (read + decode 1024×1024 16-bit grey PNG + area resize to 128×128 + random
//    affine), first epoch (decoding) and later epochs (decoded-image cache);
//  - DigitAnatomy generation (normal and abnormal samples, 96×96).
// Run: pnpm exec tsx bench/datasets.bench.ts (from packages/datasets or the repo root).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Rng } from '@squid-ad/backend';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import {
  ANOMALY_TYPES,
  augmentAffine,
  CHEST_AUGMENT,
  decodeImage,
  decodeImageAsync,
  folderDataset,
  makeAbnormal,
  makeNormal,
  resize,
} from '../src/index.js';

const SIDE = 1024;
const S = 128;
const FILES = 8;

// Radiograph-like content: smooth anatomy plus sensor noise, written by pngjs (adaptive filters, like
// real encoders) so the file size and inflate cost resemble a real 16-bit chest PNG.
function chestPng(seed: number): Buffer {
  const rng = Rng.fromSeed(seed);
  const png = new PNG({
    width: SIDE,
    height: SIDE,
    colorType: 0,
    bitDepth: 16,
    inputColorType: 6,
    inputHasAlpha: true,
  });
  const rgba = new Uint16Array(SIDE * SIDE * 4);
  for (let y = 0; y < SIDE; y++) {
    for (let x = 0; x < SIDE; x++) {
      const lung =
        Math.exp(-(((x - 330) / 170) ** 2 + ((y - 520) / 300) ** 2)) +
        Math.exp(-(((x - 700) / 170) ** 2 + ((y - 520) / 300) ** 2));
      const ribs = 0.08 * Math.sin(y / 18 + Math.sin(x / 90));
      const v = 42000 - 22000 * lung + 4000 * ribs + 120 * rng.normal();
      const c = Math.max(0, Math.min(65535, Math.round(v)));
      rgba.set([c, c, c, 65535], (y * SIDE + x) * 4);
    }
  }
  png.data = Buffer.from(rgba.buffer) as Buffer;
  return PNG.sync.write(png, { colorType: 0, bitDepth: 16, inputColorType: 6, inputHasAlpha: true });
}

const line = (o: Record<string, unknown>) => console.log(JSON.stringify(o));
// Wall time and this process's CPU time: on a shared machine the CPU-time rate is the one-core figure.
const clock = () => ({ wall: performance.now(), cpu: process.cpuUsage() });
const elapsed = (c: ReturnType<typeof clock>) => {
  const u = process.cpuUsage(c.cpu);
  return { wall: (performance.now() - c.wall) / 1000, cpu: (u.user + u.system) / 1e6 };
};
const round = (v: number, d = 1) => Math.round(v * 10 ** d) / 10 ** d;

const dir = await mkdtemp(join(tmpdir(), 'squid-bench-'));
try {
  let bytes = 0;
  const files: Buffer[] = [];
  for (let i = 0; i < FILES; i++) {
    const b = chestPng(i);
    files.push(b);
    bytes += b.length;
    await writeFile(join(dir, `n${i}.png`), b);
  }
  const cpu = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  // Stage breakdown on one core, in memory: CPU ms per image of decode, resize to S×S and the chest
  // augmentation, and the one-core rate they add up to (what the first epoch can reach at best).
  const stages = async (bytesList: Uint8Array[], name: string, reps: number) => {
    const rng = Rng.fromSeed(1);
    resize(decodeImage(bytesList[0], `warm-up.${name}`), S, S);
    let tDecode = 0;
    let tResize = 0;
    let tAugment = 0;
    for (let i = 0; i < reps; i++) {
      const t0 = cpu();
      const img = decodeImage(bytesList[i % bytesList.length], `bench.${name}`);
      const t1 = cpu();
      const small = resize(img, S, S).data;
      const t2 = cpu();
      augmentAffine(small, rng, CHEST_AUGMENT);
      const t3 = cpu();
      tDecode += t1 - t0;
      tResize += t2 - t1;
      tAugment += t3 - t2;
    }
    // sharp decodes on libuv's pool: CPU time covers those threads too (process-wide).
    let tSharp = 0;
    await decodeImageAsync(bytesList[0], `warm-up.${name}`, { decoder: 'sharp' }).catch(() => undefined);
    for (let i = 0; i < reps; i++) {
      const t0 = cpu();
      await decodeImageAsync(bytesList[i % bytesList.length], `bench.${name}`, { decoder: 'sharp' }).catch(
        () => undefined,
      );
      tSharp += cpu() - t0;
    }
    const total = (tDecode + tResize + tAugment) / reps;
    return {
      unit: 'CPU ms per image',
      decode_ms: round(tDecode / reps, 2),
      resize_ms: round(tResize / reps, 2),
      augment_ms: round(tAugment / reps, 3),
      decode_sharp_ms: round(tSharp / reps, 2),
      one_core_images_per_s: round(1000 / total),
    };
  };
  line({
    bench: 'datasets/chest-stages',
    input: `${SIDE}x${SIDE} 16-bit grey PNG, ${round(bytes / FILES / 2 ** 20, 2)} MiB avg -> ${S}x${S}`,
    ...(await stages(files, 'png', 48)),
  });

  // ZhangLab's published images are ~1500×1800 8-bit JPEGs.
  {
    const [w, h] = [1500, 1800];
    const g = Rng.fromSeed(4);
    const rgba = new Uint8Array(w * h * 4);
    for (let i = 0; i < w * h; i++) {
      const v = Math.max(0, Math.min(255, Math.round(128 + 70 * Math.sin(i / 4000) + 6 * g.normal())));
      rgba.set([v, v, v, 255], i * 4);
    }
    const jpg = new Uint8Array(jpeg.encode({ width: w, height: h, data: rgba }, 90).data);
    // jpeg-js alone: the pure-JS fallback (and the decoder before libjpeg-turbo).
    jpeg.decode(jpg, { useTArray: true, formatAsRGBA: false });
    const t0 = cpu();
    for (let i = 0; i < 4; i++) jpeg.decode(jpg, { useTArray: true, formatAsRGBA: false });
    line({
      bench: 'datasets/jpeg-stages',
      input: `${w}x${h} 8-bit JPEG (ZhangLab-like) -> ${S}x${S}`,
      decode_jpeg_js_ms: round((cpu() - t0) / 4, 2),
      ...(await stages([jpg], 'jpg', 16)),
    });
  }

  // The real pipeline: folder dataset, batches of 16 with prefetch and augmentation.
  const { mkdir, rename, readdir } = await import('node:fs/promises');
  await mkdir(join(dir, 'normal'));
  for (const f of (await readdir(dir)).filter((f) => f.endsWith('.png')))
    await rename(join(dir, f), join(dir, 'normal', f));
  for (const [label, decoder, cacheBytes, epochs] of [
    ['first epoch, js decoders', 'js', 0, 6],
    ['first epoch, sharp', 'sharp', 0, 6],
    ['cached epochs', 'js', 64 * 2 ** 20, 50],
  ] as const) {
    const ds = await folderDataset(dir, { imageSize: S, cacheBytes, decoder });
    if (cacheBytes) for await (const b of ds.batches({ batchSize: 8, epochs: 1 })) b.images.dispose();
    const t0 = clock();
    let n = 0;
    try {
      for await (const b of ds.batches({ batchSize: 8, epochs, augment: CHEST_AUGMENT, seed: 3 })) {
        n += b.images.shape[0];
        b.images.dispose();
      }
    } catch (err) {
      line({ bench: 'datasets/chest-pipeline', mode: label, error: (err as Error).message });
      continue;
    }
    const t = elapsed(t0);
    line({
      bench: 'datasets/chest-pipeline',
      mode: label,
      input: `${SIDE}x${SIDE} 16-bit PNG -> ${S}x${S}, batch 8, affine augmentation`,
      images: n,
      images_per_s: round(n / t.wall),
      images_per_cpu_s: round(n / t.cpu),
    });
  }

  // DigitAnatomy generation.
  const g = Rng.fromSeed(7);
  makeNormal(g); // loads the MNIST digits once
  for (const kind of ['normal', 'abnormal'] as const) {
    const N = 1000;
    const t0 = clock();
    for (let i = 0; i < N; i++) {
      if (kind === 'normal') makeNormal(g);
      else makeAbnormal(g, ANOMALY_TYPES[i % 4]);
    }
    const t = elapsed(t0);
    line({
      bench: 'datasets/digitanatomy',
      kind,
      size: '96x96',
      samples_per_s: round(N / t.wall),
      samples_per_cpu_s: round(N / t.cpu),
    });
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}

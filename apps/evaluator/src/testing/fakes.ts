// Test helpers: a fake SQUID run and PNG-backed image loading, so the CLI is tested without a model.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tf } from '@squid-ad/backend';
import { reconError } from '@squid-ad/squid';
import { PNG } from 'pngjs';
import type { CliDeps, EvalSplit, LoadImage, ScoringRun } from '../deps.js';

/** Writes a grey S×S PNG whose pixel (x, y) is f(x, y) in [0, 1]. */
export function writeGreyPng(path: string, size: number, f: (x: number, y: number) => number): void {
  const png = new PNG({ width: size, height: size });
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      const v = Math.round(Math.min(1, Math.max(0, f(x, y))) * 255);
      png.data.set([v, v, v, 255], (y * size + x) * 4);
    }
  }
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, PNG.sync.write(png));
}

/** Decodes a grey PNG of exactly `size`×`size`; errors name the file like @squid-ad/datasets does. */
export const loadPngImage: LoadImage = async (path, { size }) => {
  const { readFileSync } = await import('node:fs');
  let png: PNG;
  try {
    png = PNG.sync.read(readFileSync(path));
  } catch (err) {
    throw new Error(`${path}: not a readable image (${(err as Error).message})`);
  }
  if (png.width !== size || png.height !== size)
    throw new Error(`${path}: ${png.width}×${png.height}, expected ${size}`);
  const out = new Float32Array(size * size);
  for (let i = 0; i < out.length; i++) out[i] = png.data[i * 4] / 255;
  return out;
};

/**
 * A fake run: score = mean intensity of the image (per image, so batch-independent), recon =
 * the image with its bright pixels dimmed (above 0.5), so bright blobs show up in the difference
 * heatmap and in the reconstruction errors (those of `@squid-ad/squid`, over `reconCell` cells,
 * default 8 px).
 */
export function fakeRun(
  size: number,
  threshold?: number,
  reconCell = 8,
): ScoringRun & { calls: number[]; disposed: boolean } {
  const run = {
    config: { imageSize: size },
    threshold,
    reconCell,
    calls: [] as number[],
    disposed: false,
    async score(images: tf.Tensor4D, options: { reconCell?: number } = {}) {
      run.calls.push(images.shape[0]);
      const [scores, recon] = tf.tidy(() => [
        images.mean([1, 2, 3]),
        tf.minimum(images, 0.5).reshape([images.shape[0], -1]),
      ]);
      const s = (await scores.data()) as Float32Array;
      const r = ((await recon.array()) as number[][]).map((row) => Float32Array.from(row));
      const x = (await images.data()) as Float32Array;
      scores.dispose();
      recon.dispose();
      const errors = r.map((ri, i) =>
        reconError(
          x.subarray(i * size * size, (i + 1) * size * size),
          ri,
          size,
          options.reconCell ?? reconCell,
        ),
      );
      return {
        scores: s,
        recon: r,
        reconL1: Float32Array.from(errors, (e) => e.l1),
        reconL1WorstCell: Float32Array.from(errors, (e) => e.worstCell),
      };
    },
    dispose() {
      run.disposed = true;
    },
  };
  return run;
}

/** Collected output plus deps wired to a fake run and PNG loading. */
export function fakeDeps(
  run: ScoringRun,
  splits: Record<string, EvalSplit> = {},
): CliDeps & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    loadRun: async () => run,
    loadImage: loadPngImage,
    openSplit: async ({ split }) => {
      const s = splits[split];
      if (!s) throw new Error(`no split ${split}`);
      return s;
    },
    stdout: (l) => out.push(l),
    stderr: (l) => err.push(l),
  };
}

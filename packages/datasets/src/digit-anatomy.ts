import { Rng } from '@squid-ad/backend';
import { z } from 'zod';
import { type DatasetItem, ImageDataset, type Label } from './dataset.js';
import { digitInstances, MNIST_SIDE } from './mnist-digits.js';
import { pilResizeBilinear } from './pil-resize.js';
import { randomResizedCrop, type SquareCrop } from './random-resized-crop.js';
import { mixSeed } from './seed.js';

/** The four DigitAnatomy anomalies of the paper. */
export const ANOMALY_TYPES = ['missing', 'swap', 'flip', 'zero'] as const;
export type AnomalyType = (typeof ANOMALY_TYPES)[number];
export type FlipAxis = 'horizontal' | 'vertical';

/** One DigitAnatomy image `[3·cell, 3·cell]` with its pixel mask of the affected cells. */
export interface DigitAnatomySample {
  image: Float32Array;
  /** 1 inside the affected cells, 0 elsewhere (all 0 for normal samples). */
  mask: Float32Array;
  /** Side of the image: 3·cell. */
  side: number;
  label: Label;
  type: 'normal' | AnomalyType;
  /** Affected cells, 0..8 in reading order (cell k normally holds digit k+1). */
  cells: number[];
  /** Axis of a `flip` anomaly. */
  flip?: FlipAxis;
}

/** Options of the generator. */
export const digitAnatomySchema = z.object({
  /** Cell side in pixels (the paper: 32, so images are 96×96). */
  cell: z.number().int().min(8).default(32),
  /**
   * Area fraction range of each digit's random resized crop (the official loader: 0.6–1.3; draws
   * above ~1.036 are too large and redrawn). `[1, 1]` resizes the whole digit.
   */
  scale: z
    .tuple([z.number().positive(), z.number().positive()])
    .refine(([lo, hi]) => lo <= hi, 'scale: the first bound must not exceed the second')
    .default([0.6, 1.3]),
  /** MNIST instances to draw from: train and test use disjoint digits. */
  split: z.enum(['train', 'test']).default('train'),
});
export type DigitAnatomyOptions = z.input<typeof digitAnatomySchema>;

// Digits that look the same after a flip about that axis: flipping them would be no anomaly.
const FLIP_INVARIANT: Record<FlipAxis, Set<number>> = {
  horizontal: new Set([1, 8]),
  vertical: new Set([1, 3, 8]),
};

interface CellSpec {
  digit: number;
  flip?: FlipAxis;
}

function flipped(src: Uint8Array, axis: FlipAxis): Uint8Array {
  const n = MNIST_SIDE;
  const out = new Uint8Array(n * n);
  for (let y = 0; y < n; y++) {
    for (let x = 0; x < n; x++) {
      out[y * n + x] = axis === 'horizontal' ? src[y * n + (n - 1 - x)] : src[(n - 1 - y) * n + x];
    }
  }
  return out;
}

/**
 * One cell `[cell, cell]` uint8 as the official loader makes it: the `crop` of the 28×28 digit,
 * resized to 28×28 and then to `cell`×`cell` (official: 32), both with PIL's 8-bit bilinear resize.
 */
export function digitCell(digit: Uint8Array, crop: SquareCrop, cell: number): Uint8Array {
  const { top, left, size } = crop;
  const cropped = new Uint8Array(size * size);
  for (let y = 0; y < size; y++) {
    const from = (top + y) * MNIST_SIDE + left;
    cropped.set(digit.subarray(from, from + size), y * size);
  }
  const full = pilResizeBilinear({ width: size, height: size, data: cropped }, MNIST_SIDE, MNIST_SIDE);
  return pilResizeBilinear(full, cell, cell).data;
}

function render(
  specs: (CellSpec | null)[],
  rng: Rng,
  o: z.output<typeof digitAnatomySchema>,
): { image: Float32Array; side: number } {
  const side = 3 * o.cell;
  const image = new Float32Array(side * side);
  specs.forEach((spec, k) => {
    if (!spec) return;
    const pool = digitInstances(spec.digit, o.split);
    let digit = pool[rng.int(pool.length)];
    if (spec.flip) digit = flipped(digit, spec.flip);
    const cell = digitCell(digit, randomResizedCrop(rng, MNIST_SIDE, o.scale), o.cell);
    const cx = (k % 3) * o.cell;
    const cy = Math.floor(k / 3) * o.cell;
    for (let y = 0; y < o.cell; y++) {
      const row = (cy + y) * side + cx;
      for (let x = 0; x < o.cell; x++) image[row + x] = cell[y * o.cell + x] / 255;
    }
  });
  return { image, side };
}

function cellMask(side: number, cell: number, cells: number[]): Float32Array {
  const mask = new Float32Array(side * side);
  for (const k of cells) {
    const cx = (k % 3) * cell;
    const cy = Math.floor(k / 3) * cell;
    for (let y = cy; y < cy + cell; y++) mask.fill(1, y * side + cx, y * side + cx + cell);
  }
  return mask;
}

const normalSpecs = (): CellSpec[] => Array.from({ length: 9 }, (_, k) => ({ digit: k + 1 }));

/** A normal DigitAnatomy image: digits 1–9 in reading order, random instances and crops. */
export function makeNormal(rng: Rng, options: DigitAnatomyOptions = {}): DigitAnatomySample {
  const o = digitAnatomySchema.parse(options);
  const { image, side } = render(normalSpecs(), rng, o);
  return { image, side, mask: new Float32Array(side * side), label: 0, type: 'normal', cells: [] };
}

/** An abnormal DigitAnatomy image of the given type; records the affected cells and a mask. */
export function makeAbnormal(
  rng: Rng,
  type: AnomalyType,
  options: DigitAnatomyOptions = {},
): DigitAnatomySample {
  const o = digitAnatomySchema.parse(options);
  const specs: (CellSpec | null)[] = normalSpecs();
  let cells: number[];
  let flip: FlipAxis | undefined;
  if (type === 'missing') {
    cells = [rng.int(9)];
    specs[cells[0]] = null;
  } else if (type === 'swap') {
    const a = rng.int(9);
    const b = (a + 1 + rng.int(8)) % 9;
    cells = [Math.min(a, b), Math.max(a, b)];
    specs[a] = { digit: b + 1 };
    specs[b] = { digit: a + 1 };
  } else if (type === 'flip') {
    flip = rng.int(2) === 0 ? 'horizontal' : 'vertical';
    const axis = flip;
    const candidates = [...Array(9).keys()].filter((k) => !FLIP_INVARIANT[axis].has(k + 1));
    cells = [candidates[rng.int(candidates.length)]];
    specs[cells[0]] = { digit: cells[0] + 1, flip };
  } else if (type === 'zero') {
    cells = [rng.int(9)];
    specs[cells[0]] = { digit: 0 };
  } else {
    throw new Error(`unknown DigitAnatomy anomaly type '${type}' (expected ${ANOMALY_TYPES.join(', ')})`);
  }
  const { image, side } = render(specs, rng, o);
  return {
    image,
    side,
    mask: cellMask(side, o.cell, cells),
    label: 1,
    type,
    cells,
    ...(flip ? { flip } : {}),
  };
}

/**
 * A fixed test set from `seed`: `normal` normal samples then `abnormal` abnormal ones with the types
 * cycling missing, swap, flip, zero. Uses the test digit instances only, with the training cell recipe.
 */
export function digitAnatomyTestSet(
  options: {
    seed?: number;
    normal?: number;
    abnormal?: number;
    cell?: number;
    scale?: [number, number];
  } = {},
): DigitAnatomySample[] {
  const { seed = 0, normal = 100, abnormal = 100, cell = 32, scale } = options;
  const out: DigitAnatomySample[] = [];
  for (let i = 0; i < normal + abnormal; i++) {
    const rng = Rng.fromSeed(mixSeed(seed, 0x7e57, i));
    const o = { cell, scale, split: 'test' as const };
    out.push(i < normal ? makeNormal(rng, o) : makeAbnormal(rng, ANOMALY_TYPES[(i - normal) % 4], o));
  }
  return out;
}

/** Endless seeded stream of normal training samples (train digit instances). */
export function* digitAnatomyStream(
  options: { seed?: number; cell?: number; scale?: [number, number]; start?: number } = {},
): Generator<DigitAnatomySample> {
  const { seed = 0, cell = 32, scale, start = 0 } = options;
  for (let i = start; ; i++)
    yield makeNormal(Rng.fromSeed(mixSeed(seed, 0x7a1, i)), { cell, scale, split: 'train' });
}

const datasetSchema = z.object({
  split: z.enum(['train', 'test']).default('train'),
  seed: z.number().int().default(0),
  cell: z.number().int().min(8).default(32),
  /** Area fraction range of each digit's random resized crop (see {@link digitAnatomySchema}). */
  scale: digitAnatomySchema.shape.scale,
  /** Train: samples per epoch, each epoch draws new ones (official: 32·50 = 1,600). */
  length: z.number().int().positive().default(1600),
  /**
   * Train: fraction of the training items that are abnormal (the paper's contamination study,
   * Figure 10); each item's draw comes from the seed, so a run sees the same items every epoch.
   */
  contamination: z.number().min(0).max(0.95).default(0),
  /** Test: counts of normal and abnormal samples. */
  normal: z.number().int().min(0).default(100),
  abnormal: z.number().int().min(0).default(100),
});
export type DigitAnatomyDatasetOptions = z.input<typeof datasetSchema>;

/**
 * The training items: each is, with probability `contamination`, abnormal of a type drawn uniformly
 * (from its own generator seeded by `seed` and its index, so the abnormal items of a smaller
 * fraction are among those of a larger one, of the same type); the rest are normal. Without
 * contamination nothing is drawn.
 */
function trainItems(length: number, seed: number, contamination: number): DatasetItem[] {
  return Array.from({ length }, (_, i): DatasetItem => {
    const path = `digitanatomy:train/${i}`;
    if (contamination > 0) {
      const rng = Rng.fromSeed(mixSeed(seed, 0xc047, i));
      const abnormal = rng.next() < contamination;
      const type = ANOMALY_TYPES[rng.int(ANOMALY_TYPES.length)];
      if (abnormal) return { path, label: 1, type, cells: [] };
    }
    return { path, label: 0, type: 'normal', cells: [] };
  });
}

/**
 * DigitAnatomy as an {@link ImageDataset} (image size 3·cell, generated in memory): `train` draws
 * fresh samples from each batch slot's own generator (normal ones, and with `contamination` an
 * abnormal one of its item's type, made as the test set makes it from train digits), `test` is
 * {@link digitAnatomyTestSet}. A contaminated item's affected cells change with every draw, so its
 * `cells` are empty.
 */
export function digitAnatomyDataset(options: DigitAnatomyDatasetOptions = {}): ImageDataset {
  const o = datasetSchema.parse(options);
  const side = 3 * o.cell;
  if (o.split === 'train') {
    const items = trainItems(o.length, o.seed, o.contamination);
    const recipe = { cell: o.cell, scale: o.scale, split: 'train' as const };
    const load = async (item: DatasetItem, _index: number, rng: Rng) =>
      item.label === 0
        ? makeNormal(rng, recipe).image
        : makeAbnormal(rng, item.type as AnomalyType, recipe).image;
    return new ImageDataset('digitanatomy:train', side, items, load);
  }
  const samples = digitAnatomyTestSet(o);
  const items: DatasetItem[] = samples.map((s, i) => ({
    path: `digitanatomy:test/${i}`,
    label: s.label,
    type: s.type,
    cells: s.cells,
  }));
  return new ImageDataset('digitanatomy:test', side, items, async (_item, index) => samples[index].image);
}

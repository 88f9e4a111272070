import { Rng, tf } from '@squid-ad/backend';
import { z } from 'zod';
import { type AffineOptions, affineSchema, augmentAffine } from './augment.js';
import { BadImageError } from './grey-image.js';
import { mixSeed } from './seed.js';

/** 0 = normal (healthy), 1 = abnormal. */
export type Label = 0 | 1;

/** One entry of a dataset: where the image comes from and its label. */
export interface DatasetItem {
  path: string;
  label: Label;
  /** DigitAnatomy: `normal` or the anomaly type. */
  type?: string;
  /** DigitAnatomy: the affected cells (0..8, reading order). */
  cells?: number[];
}

/** One decoded image `[S, S]` (row-major) in [0,1] with its label and source. */
export interface Sample {
  image: Float32Array;
  label: Label;
  path: string;
}

/** Where a batch stream stands: batch `step` of epoch `epoch` is the next one to produce. */
export interface Position {
  epoch: number;
  step: number;
}

/** A batch: `images` is `[B, S, S, 1]` float32 in [0,1] (the caller disposes it). */
export interface Batch {
  images: tf.Tensor4D;
  labels: Label[];
  paths: string[];
  /** Position of this batch. */
  position: Position;
  /** Position to pass as `start` to resume right after this batch. */
  next: Position;
}

const positionSchema = z.object({ epoch: z.number().int().min(0), step: z.number().int().min(0) });

/** Options of {@link ImageDataset.batches}. */
export const batchOptionsSchema = z.object({
  batchSize: z.number().int().positive().default(16),
  /** Seeds the per-epoch shuffle and the per-sample augmentation. */
  seed: z.number().int().default(0),
  shuffle: z.boolean().default(true),
  /** Random affine per sample (training), or false. */
  augment: z.union([affineSchema, z.literal(false)]).default(false),
  /** Number of epochs to produce (Infinity for an endless training stream). */
  epochs: z
    .custom<number>(
      (v) => v === Number.POSITIVE_INFINITY || (typeof v === 'number' && Number.isInteger(v) && v > 0),
      'epochs must be a positive integer or Infinity',
    )
    .default(1),
  /** Drop the last incomplete batch of every epoch. */
  dropLast: z.boolean().default(false),
  /** Batches loaded ahead of the one being consumed. */
  prefetch: z.number().int().min(0).default(2),
  /** Resume point (from a previous batch's `next`). */
  start: positionSchema.default({ epoch: 0, step: 0 }),
});
export type BatchOptions = z.input<typeof batchOptionsSchema>;

/** Produces the `[S, S]` image of an item; `rng` is the sample's own generator (epoch- and slot-specific). */
export type ItemLoader = (item: DatasetItem, index: number, rng: Rng) => Promise<Float32Array>;

/** How a dataset reacts to unusable files and how much it may cache. */
export interface DatasetOptions {
  /** `throw` (default) stops at the first bad file; `skip` logs each bad file once and leaves it out. */
  onError?: 'throw' | 'skip';
  /** Decoded images are kept up to this many bytes (0 disables); only for loaders that ignore `rng`. */
  cacheBytes?: number;
  /** Receives one line per skipped file. */
  log?: (message: string) => void;
}

interface LoadedBatch {
  images: Float32Array[];
  labels: Label[];
  paths: string[];
  position: Position;
  next: Position;
}

/**
 * A labelled list of images decoded lazily: streams seeded, shuffled, optionally augmented batches
 * with prefetch and an exact resume position. Memory is bounded by the prefetch depth plus the cache.
 */
export class ImageDataset {
  readonly name: string;
  /** Side S of every produced image. */
  readonly imageSize: number;
  readonly items: readonly DatasetItem[];
  /** Files left out under `onError: 'skip'`, with the reason. */
  readonly skipped = new Map<string, string>();
  private readonly loader: ItemLoader;
  private readonly onError: 'throw' | 'skip';
  private readonly cacheBytes: number;
  private readonly log: (message: string) => void;
  private cache = new Map<number, Float32Array>();
  private cachedBytes = 0;

  constructor(
    name: string,
    imageSize: number,
    items: readonly DatasetItem[],
    loader: ItemLoader,
    options: DatasetOptions = {},
  ) {
    if (!Number.isInteger(imageSize) || imageSize <= 0)
      throw new Error(`${name}: image size must be a positive integer, got ${imageSize}`);
    this.name = name;
    this.imageSize = imageSize;
    this.items = items;
    this.loader = loader;
    this.onError = options.onError ?? 'throw';
    this.cacheBytes = options.cacheBytes ?? 0;
    this.log = options.log ?? ((m) => console.warn(m));
  }

  /** Number of items. */
  get length(): number {
    return this.items.length;
  }

  /** Batches per epoch for a batch size. */
  stepsPerEpoch(batchSize: number, dropLast = false): number {
    return dropLast ? Math.floor(this.items.length / batchSize) : Math.ceil(this.items.length / batchSize);
  }

  /** Order of the items in an epoch (a seeded permutation, or identity without shuffle). */
  epochOrder(epoch: number, seed: number, shuffle = true): number[] {
    const order = Array.from({ length: this.items.length }, (_, i) => i);
    return shuffle ? Rng.fromSeed(mixSeed(seed, epoch, -1)).shuffle(order) : order;
  }

  /** Loads item `index` (optionally augmented); null when skipped under `onError: 'skip'`. */
  async sample(
    index: number,
    rng: Rng = Rng.fromSeed(index),
    augment: AffineOptions | false = false,
  ): Promise<Sample | null> {
    const item = this.items[index];
    if (!item) throw new Error(`${this.name}: no item ${index} (size ${this.items.length})`);
    let image = this.cache.get(index);
    if (!image) {
      try {
        image = await this.loader(item, index, rng);
      } catch (err) {
        if (this.onError === 'throw' || !(err instanceof BadImageError)) throw err;
        if (!this.skipped.has(item.path)) {
          this.skipped.set(item.path, err.reason);
          this.log(`${this.name}: skipping ${err.message}`);
        }
        return null;
      }
      if (image.length !== this.imageSize * this.imageSize) {
        throw new Error(
          `${this.name}: ${item.path} loaded as ${image.length} values, expected ${this.imageSize}²`,
        );
      }
      const bytes = image.byteLength;
      // Prefetch can load the same item twice (end of one epoch, start of the next): count it once.
      if (this.cacheBytes > 0 && !this.cache.has(index) && this.cachedBytes + bytes <= this.cacheBytes) {
        this.cache.set(index, image);
        this.cachedBytes += bytes;
      }
    }
    const out = augment ? augmentAffine(image, rng, augment) : image.slice();
    return { image: out, label: item.label, path: item.path };
  }

  /** Every item once, in order, as `{ image, label, path }` (bad files skipped or thrown per `onError`). */
  async *samples(options: { prefetch?: number } = {}): AsyncGenerator<Sample> {
    for await (const b of this.loadedBatches(
      batchOptionsSchema.parse({ batchSize: 1, shuffle: false, prefetch: options.prefetch ?? 4 }),
    )) {
      if (b.images.length) yield { image: b.images[0], label: b.labels[0], path: b.paths[0] };
    }
  }

  /**
   * Batches `{ images [B, S, S, 1], labels, paths, position, next }`. Sample k of batch `step` in
   * `epoch` depends only on (seed, epoch, step, k), so resuming from `next` reproduces the stream
   * exactly. A batch can be short when files are skipped or at the end of an epoch.
   */
  async *batches(options: BatchOptions = {}): AsyncGenerator<Batch> {
    const S = this.imageSize;
    for await (const b of this.loadedBatches(batchOptionsSchema.parse(options))) {
      const n = b.images.length;
      if (n === 0) continue;
      const buf = new Float32Array(n * S * S);
      b.images.forEach((img, i) => {
        buf.set(img, i * S * S);
      });
      yield {
        images: tf.tensor4d(buf, [n, S, S, 1]),
        labels: b.labels,
        paths: b.paths,
        position: b.position,
        next: b.next,
      };
    }
  }

  private async *loadedBatches(o: z.output<typeof batchOptionsSchema>): AsyncGenerator<LoadedBatch> {
    const steps = this.stepsPerEpoch(o.batchSize, o.dropLast);
    if (steps === 0) {
      throw new Error(
        `${this.name}: ${this.items.length} items cannot fill one batch of ${o.batchSize} with dropLast`,
      );
    }
    let { epoch, step } = o.start;
    epoch += Math.floor(step / steps);
    step %= steps;
    let orderEpoch = -1;
    let order: number[] = [];
    const load = (e: number, s: number): Promise<LoadedBatch> => {
      if (e !== orderEpoch) {
        order = this.epochOrder(e, o.seed, o.shuffle);
        orderEpoch = e;
      }
      const slots = order.slice(s * o.batchSize, (s + 1) * o.batchSize);
      const next = s + 1 < steps ? { epoch: e, step: s + 1 } : { epoch: e + 1, step: 0 };
      return Promise.all(
        slots.map((index, k) =>
          this.sample(index, Rng.fromSeed(mixSeed(o.seed, e, s * o.batchSize + k)), o.augment),
        ),
      ).then((loaded) => {
        const got = loaded.filter((x): x is Sample => x !== null);
        return {
          images: got.map((x) => x.image),
          labels: got.map((x) => x.label),
          paths: got.map((x) => x.path),
          position: { epoch: e, step: s },
          next,
        };
      });
    };
    const pending: Promise<LoadedBatch>[] = [];
    const enqueue = () => {
      if (epoch >= o.epochs) return false;
      const p = load(epoch, step);
      // The consumer may stop early: a rejected prefetch must not become an unhandled rejection.
      p.catch(() => {});
      pending.push(p);
      step += 1;
      if (step >= steps) {
        step = 0;
        epoch += 1;
      }
      return true;
    };
    while (pending.length <= o.prefetch && enqueue()) {}
    while (pending.length > 0) {
      const batch = await pending.shift()!;
      while (pending.length <= o.prefetch && enqueue()) {}
      yield batch;
    }
  }

  /** Drops the decoded-image cache. */
  dispose(): void {
    this.cache.clear();
    this.cachedBytes = 0;
  }
}

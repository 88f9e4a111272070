import { z } from 'zod';
import { type DatasetItem, ImageDataset } from './dataset.js';
import { DEFAULT_MAX_PIXELS } from './decode-image.js';
import { loadImage } from './load-image.js';

/** Options shared by every file-backed loader. */
export const fileDatasetSchema = z.object({
  /** Side S of the produced images (presets: 128 for the chest data sets). */
  imageSize: z.number().int().positive().default(128),
  onError: z.enum(['throw', 'skip']).default('throw'),
  /** Larger images are refused before decoding. */
  maxPixels: z.number().int().positive().default(DEFAULT_MAX_PIXELS),
  /** Bytes of decoded `[S, S]` images kept in memory across epochs (first come, no eviction). */
  cacheBytes: z
    .number()
    .int()
    .min(0)
    .default(512 * 2 ** 20),
  filter: z.enum(['area', 'bilinear', 'auto']).default('auto'),
  /** PNG/JPEG decoder: `auto` uses the optional native `sharp` when installed. */
  decoder: z.enum(['auto', 'js', 'sharp']).optional(),
});
export type FileDatasetOptions = z.input<typeof fileDatasetSchema> & { log?: (message: string) => void };

/** An {@link ImageDataset} whose items are image files decoded and resized on demand. */
export function fileDataset(name: string, items: DatasetItem[], options: FileDatasetOptions): ImageDataset {
  const o = fileDatasetSchema.parse(options);
  const load = (item: DatasetItem) =>
    loadImage(item.path, { size: o.imageSize, maxPixels: o.maxPixels, filter: o.filter, decoder: o.decoder });
  return new ImageDataset(name, o.imageSize, items, load, {
    onError: o.onError,
    cacheBytes: o.cacheBytes,
    log: options.log,
  });
}

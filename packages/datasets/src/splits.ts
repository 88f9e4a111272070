import { Rng } from '@squid-ad/backend';
import { z } from 'zod';
import type { DatasetItem } from './dataset.js';
import { mixSeed } from './seed.js';

/** Options that carve a validation set from training and contaminate the training set. */
export const splitOptionsSchema = z.object({
  /** Seeds the hold-out and contamination draws. */
  seed: z.number().int().default(0),
  /** Images carved from the training split into `val` (and removed from `train`). */
  holdout: z
    .object({ normal: z.number().int().min(0).default(0), abnormal: z.number().int().min(0).default(0) })
    .optional(),
  /** Fraction of the training set made of abnormal images (the paper's contamination study). */
  contamination: z.number().min(0).max(0.95).default(0),
});
export type SplitOptions = z.input<typeof splitOptionsSchema>;

/** Training and hold-out sets drawn from a training split's normal and abnormal images. */
export function carveTraining(
  normal: readonly DatasetItem[],
  abnormal: readonly DatasetItem[],
  options: SplitOptions,
  where: string,
): { train: DatasetItem[]; holdout: DatasetItem[] } {
  const { seed, holdout, contamination } = splitOptionsSchema.parse(options);
  const rng = Rng.fromSeed(mixSeed(seed, 0x5eed));
  const n = rng.shuffle([...normal]);
  const a = rng.shuffle([...abnormal]);
  const hn = holdout?.normal ?? 0;
  const ha = holdout?.abnormal ?? 0;
  if (hn > n.length || ha > a.length) {
    throw new Error(
      `${where}: hold-out of ${hn} normal + ${ha} abnormal needs more images than the training split has (${n.length} normal, ${a.length} abnormal)`,
    );
  }
  const held = [...n.slice(0, hn), ...a.slice(0, ha)];
  const trainNormal = n.slice(hn);
  const k = Math.round((contamination * trainNormal.length) / (1 - contamination));
  if (k > a.length - ha) {
    throw new Error(
      `${where}: contamination ${contamination} needs ${k} abnormal training images, only ${a.length - ha} available`,
    );
  }
  const byPath = (x: DatasetItem, y: DatasetItem) => (x.path < y.path ? -1 : x.path > y.path ? 1 : 0);
  return { train: [...trainNormal, ...a.slice(ha, ha + k)].sort(byPath), holdout: held.sort(byPath) };
}

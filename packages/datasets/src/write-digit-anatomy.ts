import { join } from 'node:path';
import { writeFileAtomic } from '@squid-ad/backend';
import { ANOMALY_TYPES, type DigitAnatomySample, digitAnatomyTestSet } from './digit-anatomy.js';
import { encodeGreyPng } from './png-codec.js';

/** One line of `manifest.json`. */
export interface ManifestEntry {
  path: string;
  mask: string;
  label: 0 | 1;
  type: string;
  cells: number[];
  flip?: string;
}

/**
 * Renders a DigitAnatomy set to `out/normal/*.png`, `out/abnormal/<type>/*.png`, `out/masks/...` and
 * `out/manifest.json` (paths relative to `out`). Same options → byte-identical files.
 */
export async function writeDigitAnatomy(
  out: string,
  options: { seed?: number; normal?: number; abnormal?: number; cell?: number } = {},
): Promise<ManifestEntry[]> {
  const { seed = 0, normal = 100, abnormal = 100, cell = 32 } = options;
  const resolved = { seed, normal, abnormal, cell };
  const samples = digitAnatomyTestSet(resolved);
  const manifest: ManifestEntry[] = [];
  const counters = new Map<string, number>();
  for (const s of samples) {
    const k = counters.get(s.type) ?? 0;
    counters.set(s.type, k + 1);
    const name = `${String(k).padStart(5, '0')}.png`;
    const rel = s.type === 'normal' ? `normal/${name}` : `abnormal/${s.type}/${name}`;
    const maskRel = `masks/${rel}`;
    await writeFileAtomic(join(out, rel), png(s, s.image));
    await writeFileAtomic(join(out, maskRel), png(s, s.mask));
    manifest.push({
      path: rel,
      mask: maskRel,
      label: s.label,
      type: s.type,
      cells: s.cells,
      ...(s.flip ? { flip: s.flip } : {}),
    });
  }
  await writeFileAtomic(
    join(out, 'manifest.json'),
    `${JSON.stringify({ generator: 'squid-data digitanatomy', options: { ...resolved, types: ANOMALY_TYPES }, images: manifest }, null, 1)}\n`,
  );
  return manifest;
}

const png = (s: DigitAnatomySample, data: Float32Array) =>
  encodeGreyPng({ width: s.side, height: s.side, data });

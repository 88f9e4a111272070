// Renders docs/digitanatomy.png for the README: one row per sample type, affected cells outlined.
// Run: pnpm exec tsx --tsconfig ../../tsconfig.json scripts/montage.ts
import { fileURLToPath } from 'node:url';
import { Rng } from '@squid-ad/backend';
import {
  ANOMALY_TYPES,
  type DigitAnatomySample,
  encodeGreyPng,
  makeAbnormal,
  makeNormal,
  writeFileAtomic,
} from '../src/index.js';

const PER_ROW = 4;
const GAP = 6;
// One generator for the whole picture: xoroshiro's first outputs from consecutive seeds are correlated.
const rng = Rng.fromSeed(2023);
const rows: DigitAnatomySample[][] = [
  Array.from({ length: PER_ROW }, () => makeNormal(rng, { split: 'test' })),
  ...ANOMALY_TYPES.map((t) => Array.from({ length: PER_ROW }, () => makeAbnormal(rng, t, { split: 'test' }))),
];
const side = rows[0][0].side;
const width = PER_ROW * side + (PER_ROW + 1) * GAP;
const height = rows.length * side + (rows.length + 1) * GAP;
const data = new Float32Array(width * height).fill(0.35);
rows.forEach((row, r) => {
  row.forEach((s, c) => {
    const ox = GAP + c * (side + GAP);
    const oy = GAP + r * (side + GAP);
    for (let y = 0; y < side; y++) {
      for (let x = 0; x < side; x++) {
        // Outline the mask: a mask pixel next to a non-mask pixel (or the border) is drawn grey.
        const m = (yy: number, xx: number) =>
          yy < 0 || xx < 0 || yy >= side || xx >= side ? 0 : s.mask[yy * side + xx];
        const edge =
          m(y, x) === 1 && (m(y - 1, x) === 0 || m(y + 1, x) === 0 || m(y, x - 1) === 0 || m(y, x + 1) === 0);
        data[(oy + y) * width + ox + x] = edge ? 0.6 : s.image[y * side + x];
      }
    }
  });
});
const out = fileURLToPath(new URL('../docs/digitanatomy.png', import.meta.url));
await writeFileAtomic(out, encodeGreyPng({ width, height, data }));
console.log(`wrote ${out}: rows normal, ${ANOMALY_TYPES.join(', ')}`);
for (const [r, row] of rows.entries())
  console.log(
    r,
    row
      .map((s) => `${s.type}${s.cells.length ? `@${s.cells.join('+')}` : ''}${s.flip ? `/${s.flip}` : ''}`)
      .join('  '),
  );

// Times writing a full evaluation (1000 bootstrap resamples × 7 metrics, grid, HTML) for a
// ZhangLab-sized test set; prints one JSON line.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { seededRandom } from '@squid-ad/metrics';
import { writeEvaluation } from '../src/write-evaluation.js';

const n = 624; // ZhangLab test: 234 normal, 390 pneumonia
const S = 128;
const random = seededRandom(1);
const items = Array.from({ length: n }, (_, i) => {
  const label = (i < 234 ? 0 : 1) as 0 | 1;
  return { path: `test/${label ? 'PNEUMONIA' : 'NORMAL'}/${i}.jpeg`, label, score: random() + 0.4 * label };
});
const img = new Float32Array(S * S).map(() => random());
const dir = mkdtempSync(join(tmpdir(), 'squid-eval-bench-'));
try {
  const t0 = performance.now();
  await writeEvaluation(dir, {
    items,
    threshold: { source: 'oracle', method: 'max-accuracy' },
    images: () => ({ size: S, input: img, recon: img.map((v) => v * 0.9) }),
  });
  const ms = performance.now() - t0;
  console.log(
    JSON.stringify({ bench: 'evaluator/writeEvaluation', images: n, resamples: 1000, ms: Math.round(ms) }),
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}

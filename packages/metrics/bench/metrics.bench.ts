// Times the metrics on evaluation-sized and large score vectors; prints one JSON line per case.
import { averagePrecision, bootstrapCi, rocAuc, seededRandom, selectThreshold } from '../src/index.js';

function data(n: number) {
  const random = seededRandom(1);
  const labels = Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
  const scores = labels.map((y) => random() + 0.5 * y);
  return { labels, scores };
}

function time(name: string, n: number, fn: () => unknown, repeats: number): void {
  fn(); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < repeats; i++) fn();
  const ms = (performance.now() - t0) / repeats;
  console.log(JSON.stringify({ bench: `metrics/${name}`, n, ms: Number(ms.toFixed(3)) }));
}

for (const n of [600, 100_000]) {
  const { labels, scores } = data(n);
  time('rocAuc', n, () => rocAuc(labels, scores), n > 10_000 ? 5 : 200);
  time('averagePrecision', n, () => averagePrecision(labels, scores), n > 10_000 ? 5 : 200);
  time(
    'selectThreshold(max-accuracy)',
    n,
    () => selectThreshold(labels, scores, { method: 'max-accuracy' }),
    n > 10_000 ? 5 : 200,
  );
}
{
  const { labels, scores } = data(600);
  time(
    'bootstrapCi(rocAuc, 1000 resamples)',
    600,
    () => bootstrapCi(labels, scores, rocAuc, { resamples: 1000 }),
    2,
  );
}

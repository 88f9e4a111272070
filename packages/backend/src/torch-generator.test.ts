import { describe, expect, it } from 'vitest';
import goldenJson from './torch-generator.golden.json' with { type: 'json' };
import { TorchGenerator } from './torch-generator.js';

// Golden values from PyTorch 1.13 itself (scripts/torch-golden.py, Debian's python3-torch).
interface Fill {
  seed: number;
  n: number;
  from: number;
  to: number;
  first: number[];
  fnv1a: number;
}
interface Sequence {
  seed: number;
  sequence: { n: number; from: number; to: number; bits?: number[]; fnv1a?: number }[];
}
const golden = goldenJson as { torch: string; cases: (Fill | Sequence)[] };
const bits = (values: Float32Array) => Array.from(new Uint32Array(values.buffer));
function fnv1a(words: number[]): number {
  let h = 0x811c9dc5;
  for (const w of words) {
    for (let k = 0; k < 4; k++) h = Math.imul(h ^ ((w >>> (8 * k)) & 0xff), 0x01000193) >>> 0;
  }
  return h;
}

describe('TorchGenerator', () => {
  it('draws what torch.manual_seed(s); torch.empty(n).uniform_(from, to) gives, bit for bit', () => {
    for (const c of golden.cases) {
      if ('sequence' in c) continue;
      const values = new TorchGenerator(c.seed).uniform(c.n, c.from, c.to);
      expect(bits(values).slice(0, 8), `seed ${c.seed}`).toEqual(c.first);
      expect(fnv1a(bits(values)), `seed ${c.seed}: all ${c.n} values`).toBe(c.fnv1a);
    }
  });

  it('continues one stream across fills, over the state refresh every 624 draws', () => {
    const c = golden.cases.find((k): k is Sequence => 'sequence' in k) as Sequence;
    const g = new TorchGenerator(c.seed);
    const [a, b] = c.sequence;
    expect(bits(g.uniform(a.n, a.from, a.to))).toEqual(a.bits);
    expect(fnv1a(bits(g.uniform(b.n, b.from, b.to)))).toBe(b.fnv1a);
  });

  it('is MT19937: the 10,000th output of the reference seed 5489 is 4123659995', () => {
    const g = new TorchGenerator(5489);
    let last = 0;
    for (let i = 0; i < 10_000; i++) last = g.random();
    expect(last).toBe(4123659995);
  });

  it('keeps the low 32 bits of the seed: -1 draws as 4294967295 (as torch.manual_seed(-1) does)', () => {
    expect(Array.from(new TorchGenerator(-1).uniform(3, 0, 1))).toEqual(
      Array.from(new TorchGenerator(4294967295).uniform(3, 0, 1)),
    );
    expect(new TorchGenerator(-1).uniform(1, 0, 1)[0]).toBeCloseTo(0.9937993884086609, 7);
    expect(() => new TorchGenerator(0.5)).toThrow(/seed must be an integer, got 0.5/);
  });
});

/**
 * PyTorch's CPU random generator (`torch.manual_seed(seed)`: MT19937 seeded with the 32-bit seed),
 * for the draws that must equal PyTorch's bit for bit: the official model's initial weights.
 * `uniform(n, from, to)` is `torch.empty(n).uniform_(from, to)` on a float32 CPU tensor: one
 * 32-bit draw per element, in order, its low 24 bits scaled to [0, 1) and mapped to the float32
 * bounds in double precision (PyTorch 1.13, `at::uniform_real_distribution<float>`).
 */
export class TorchGenerator {
  private readonly state = new Uint32Array(624);
  private index = 624;

  /** The generator `torch.manual_seed(seed)` leaves behind (seeds are taken modulo 2^32). */
  constructor(seed: number) {
    // torch.manual_seed casts to uint64 and MT19937 keeps the low 32 bits; ToUint32 does both.
    if (!Number.isSafeInteger(seed)) throw new Error(`TorchGenerator: seed must be an integer, got ${seed}`);
    const mt = this.state;
    mt[0] = seed >>> 0;
    for (let i = 1; i < 624; i++) {
      const prev = mt[i - 1] ^ (mt[i - 1] >>> 30);
      mt[i] = (Math.imul(1812433253, prev) + i) >>> 0;
    }
  }

  /** Next 32-bit output of MT19937 (PyTorch's `generator->random()`). */
  random(): number {
    if (this.index >= 624) this.twist();
    let y = this.state[this.index++];
    y ^= y >>> 11;
    y ^= (y << 7) & 0x9d2c5680;
    y ^= (y << 15) & 0xefc60000;
    y ^= y >>> 18;
    return y >>> 0;
  }

  /** `n` float32 values of PyTorch's `uniform_(from, to)`. */
  uniform(n: number, from: number, to: number): Float32Array {
    const lo = Math.fround(from);
    const span = Math.fround(to) - lo;
    const out = new Float32Array(n);
    for (let i = 0; i < n; i++) out[i] = ((this.random() & 0xffffff) / 16777216) * span + lo;
    return out;
  }

  private twist(): void {
    const mt = this.state;
    for (let k = 0; k < 624; k++) {
      const y = (mt[k] & 0x80000000) | (mt[(k + 1) % 624] & 0x7fffffff);
      mt[k] = mt[(k + 397) % 624] ^ (y >>> 1) ^ (y & 1 ? 0x9908b0df : 0);
    }
    this.index = 0;
  }
}

import prand from 'pure-rand';

/** Serializable state of an {@link Rng}: enough to continue the exact same sequence. */
export type RngState = readonly number[];

/**
 * Seeded random number generator (xoroshiro128+ from pure-rand). Every random choice in squid
 * (data order, augmentation, Bernoulli masks, initialisation) goes through one of these, so the
 * same seed on the same backend gives the same numbers.
 */
export class Rng {
  private gen: prand.RandomGenerator;

  private constructor(gen: prand.RandomGenerator) {
    this.gen = gen;
  }

  /** A generator seeded with a 32-bit integer. */
  static fromSeed(seed: number): Rng {
    if (!Number.isInteger(seed)) throw new Error(`Rng seed must be an integer, got ${seed}`);
    // pure-rand puts the seed into the state as it is, so seeds 1, 2, 3 start almost alike;
    // spreading it with splitmix32 first makes neighbouring seeds independent.
    const mix = splitmix32(seed | 0);
    return new Rng(prand.xoroshiro128plus.fromState([mix(), mix(), mix(), mix()]));
  }

  /** Restores a generator saved with {@link Rng.getState}. */
  static fromState(state: RngState): Rng {
    return new Rng(prand.xoroshiro128plus.fromState(state));
  }

  /** The state to store in a checkpoint. */
  getState(): RngState {
    const state = this.gen.getState?.();
    if (!state) throw new Error('this generator cannot export its state');
    return [...state];
  }

  /** Unsigned 32-bit integer. */
  uint32(): number {
    return this.gen.unsafeNext() >>> 0;
  }

  /** Uniform float in [0, 1) with 53 bits of randomness. */
  next(): number {
    const hi = this.uint32() >>> 5; // 27 bits
    const lo = this.uint32() >>> 6; // 26 bits
    return (hi * 67108864 + lo) / 9007199254740992;
  }

  /** Uniform float in [lo, hi). */
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    if (!Number.isInteger(n) || n <= 0) throw new Error(`Rng.int needs a positive integer, got ${n}`);
    return prand.unsafeUniformIntDistribution(0, n - 1, this.gen);
  }

  /** Standard normal sample (Box-Muller). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }

  /** A seed for a TensorFlow.js random op (`tf.randomUniform(shape, lo, hi, dtype, seed)`). */
  tfSeed(): number {
    return this.int(2 ** 31 - 1);
  }

  /** A new independent generator derived from this one (advances this one). */
  fork(): Rng {
    return Rng.fromSeed(this.uint32() | 0);
  }

  /** Fisher-Yates shuffle in place; returns the same array. */
  shuffle<T>(items: T[]): T[] {
    for (let i = items.length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = items[i];
      items[i] = items[j];
      items[j] = tmp;
    }
    return items;
  }
}

/** splitmix32: a well-mixed sequence of int32 values from one 32-bit seed. */
function splitmix32(seed: number): () => number {
  let a = seed | 0;
  return () => {
    a = (a + 0x9e3779b9) | 0;
    let t = a ^ (a >>> 16);
    t = Math.imul(t, 0x21f0aaad);
    t ^= t >>> 15;
    t = Math.imul(t, 0x735a2d97);
    return (t ^ (t >>> 15)) | 0;
  };
}

import { tf } from '@squid-ad/backend';

/** Bits of the position code for `n` patches: ⌊log2 n⌋ + 1, as the official `int(np.log2(n) + 1)`. */
export function positionBits(n: number): number {
  return Math.floor(Math.log2(n)) + 1;
}

/** `[n, bits]` binary code of each patch index, most significant bit first. */
export function positionCode(n: number): tf.Tensor2D {
  const bits = positionBits(n);
  const code = new Float32Array(n * bits);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < bits; j++) code[i * bits + j] = Math.floor(i / 2 ** (bits - 1 - j)) % 2;
  }
  return tf.tensor2d(code, [n, bits]);
}

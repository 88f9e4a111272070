import type { tf } from '@squid-ad/backend';

// Tensors promised not to change while they live (the weights of a model loaded for scoring).
// A conv filter among them is reordered once into the layout oneDNN reads (bf16 under bfloat16),
// and in bfloat16 a matMul's b operand is converted to bf16 once; those copies are used on every
// call, instead of converting again each time: at batch 1 the decoder memories' matMuls
// (9 × 200 × 16384 floats read twice per image for DigitAnatomy) are bound by memory traffic, and
// reading bf16 halves it. Keyed by dataId, so a copy goes with its tensor.
const constants = new WeakMap<object, { bf16?: Uint16Array; packed?: Map<string, Uint8Array> }>();

/**
 * Marks tensors as constant for as long as they live: no kernel may write them in place (so not
 * weights being trained). bfloat16 matMuls and convolutions then keep a bf16 copy of them (a
 * conv filter in the layout oneDNN reads); float32 is unaffected.
 */
export function markConstant(tensors: Iterable<Pick<tf.TensorInfo, 'dataId'>>): void {
  for (const t of tensors) if (!constants.has(t.dataId)) constants.set(t.dataId, {});
}

/** Whether `info` was marked constant. */
export function isConstant(info: Pick<tf.TensorInfo, 'dataId'>): boolean {
  return constants.has(info.dataId);
}

/** The bf16 copy of a constant tensor, made from its float32 data (`f32`) on first use. */
export function constantBf16(info: Pick<tf.TensorInfo, 'dataId'>, f32: () => Float32Array): Uint16Array {
  const entry = constants.get(info.dataId);
  if (!entry) throw new Error('constantBf16: the tensor was not marked constant');
  entry.bf16 ??= toBf16(f32());
  return entry.bf16;
}

/** float32 → bfloat16 bits, round to nearest even, NaN kept quiet: the addon's (and oneDNN's) rounding. */
export function toBf16(src: Float32Array): Uint16Array {
  const bits = new Uint32Array(src.buffer, src.byteOffset, src.length);
  const out = new Uint16Array(src.length);
  for (let i = 0; i < bits.length; i++) {
    const u = bits[i];
    out[i] =
      (u & 0x7fffffff) > 0x7f800000 ? (u >>> 16) | 0x40 : ((u + 0x7fff + ((u >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

/**
 * A constant tensor as one primitive reads it (a conv filter in oneDNN's blocked layout, per
 * params and precision), made by `pack` on first use and kept with the tensor.
 */
export function constantPacked(
  info: Pick<tf.TensorInfo, 'dataId'>,
  key: string,
  pack: () => Uint8Array,
): Uint8Array {
  const entry = constants.get(info.dataId);
  if (!entry) throw new Error('constantPacked: the tensor was not marked constant');
  entry.packed ??= new Map();
  let packed = entry.packed.get(key);
  if (!packed) {
    packed = pack();
    entry.packed.set(key, packed);
  }
  return packed;
}

/** How many kept copies a constant tensor has (its bf16 copy and its packed layouts): for tests and stats. */
export function keptCopies(info: Pick<tf.TensorInfo, 'dataId'>): number {
  const entry = constants.get(info.dataId);
  return entry ? (entry.bf16 ? 1 : 0) + (entry.packed?.size ?? 0) : 0;
}

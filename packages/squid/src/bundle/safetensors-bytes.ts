// safetensors encode/decode on plain bytes (no Buffer, no node:fs): the bundle is read in browsers.
import { decodeFloat16, encodeFloat16, FLOAT16_MAX } from './float16.js';

/** Stored element types: float32, float16 (read back as float32) and int32. */
export type TensorDtype = 'F32' | 'F16' | 'I32';

/** A named tensor in memory: float data is always float32, whatever the storage. */
export interface NamedTensor {
  name: string;
  shape: number[];
  data: Float32Array | Int32Array;
}

/** A tensor as decoded from a file, with the dtype it was stored in. */
export interface DecodedTensor {
  shape: number[];
  dtype: TensorDtype;
  data: Float32Array | Int32Array;
}

// Typed arrays use the platform's byte order and safetensors is little-endian: every platform
// that runs TensorFlow.js is, but refuse rather than silently swap on one that is not.
function assertLittleEndian(): void {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] !== 1)
    throw new Error('safetensors: big-endian platforms are not supported');
}

/**
 * Encodes tensors as one safetensors file; float tensors stored as `float` (`F32` or `F16`).
 * Float16 refuses values beyond its range (they would become ±Infinity), naming the tensor.
 */
export function encodeSafetensors(
  tensors: readonly NamedTensor[],
  float: 'F32' | 'F16',
  metadata: Record<string, string> = {},
): Uint8Array {
  assertLittleEndian();
  const header: Record<string, unknown> = { __metadata__: metadata };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  for (const t of tensors) {
    if (t.name in header) throw new Error(`safetensors: tensor name ${t.name} appears twice`);
    let stored: Float32Array | Int32Array | Uint16Array = t.data;
    let dtype: TensorDtype = t.data instanceof Int32Array ? 'I32' : 'F32';
    if (dtype === 'F32' && float === 'F16') {
      const data = t.data as Float32Array;
      for (let i = 0; i < data.length; i++) {
        if (Math.abs(data[i]) > FLOAT16_MAX)
          throw new Error(`float16: ${t.name} holds ${data[i]}, beyond float16's range (±${FLOAT16_MAX})`);
      }
      stored = encodeFloat16(data);
      dtype = 'F16';
    }
    const bytes = new Uint8Array(stored.buffer, stored.byteOffset, stored.byteLength);
    header[t.name] = { dtype, shape: t.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  // The format pads the header with spaces to a multiple of 8, so tensor data stays aligned.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const padded = new Uint8Array(json.length + pad).fill(0x20);
    padded.set(json);
    json = padded;
  }
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let at = 8 + json.length;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

const BYTES: Record<TensorDtype, number> = { F32: 4, F16: 2, I32: 4 };

/** Decodes a safetensors file; errors name `file` and what is wrong with it. */
export function decodeSafetensors(
  bytes: Uint8Array,
  file: string,
): { tensors: Map<string, DecodedTensor>; metadata: Record<string, string> } {
  assertLittleEndian();
  if (bytes.length < 8) throw new Error(`${file}: truncated (${bytes.length} bytes), not a safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true));
  if (n <= 0 || 8 + n > bytes.length)
    throw new Error(
      `${file}: header length ${n} does not fit its ${bytes.length} bytes (not safetensors, or truncated)`,
    );
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch (err) {
    throw new Error(`${file}: header is not JSON (${(err as Error).message})`);
  }
  const base = 8 + n;
  const tensors = new Map<string, DecodedTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = e?.dtype as TensorDtype;
    if (!(dtype in BYTES)) throw new Error(`${file}: ${name} has unsupported dtype ${e?.dtype}`);
    const [begin, end] = e.data_offsets;
    const count = e.shape.reduce((a, x) => a * x, 1);
    if (end - begin !== count * BYTES[dtype] || base + end > bytes.length)
      throw new Error(`${file}: ${name} [${e.shape}] does not fit the file (truncated?)`);
    // Copy: the source offset need not be aligned for a typed-array view (and Buffer.slice
    // would not copy).
    const copy = new Uint8Array(end - begin);
    copy.set(bytes.subarray(base + begin, base + end));
    const buf = copy.buffer;
    const data =
      dtype === 'I32'
        ? new Int32Array(buf)
        : dtype === 'F16'
          ? decodeFloat16(new Uint16Array(buf))
          : new Float32Array(buf);
    tensors.set(name, { shape: e.shape, dtype, data });
  }
  return { tensors, metadata: (header.__metadata__ as unknown as Record<string, string>) ?? {} };
}

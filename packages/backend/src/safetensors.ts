import { readFileSync } from 'node:fs';

/** One tensor read from a `.safetensors` file, in the file's own layout. */
export interface SafetensorsEntry {
  dtype: 'F32' | 'I64';
  shape: number[];
  data: Float32Array | BigInt64Array;
}

const BYTES: Record<SafetensorsEntry['dtype'], number> = { F32: 4, I64: 8 };

/**
 * Reads a `.safetensors` file (8-byte little-endian header length, JSON header, raw data).
 * Errors name the file and the tensor that is wrong.
 */
export function readSafetensors(path: string): Map<string, SafetensorsEntry> {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read safetensors file ${path}: ${(err as Error).message}`);
  }
  if (raw.length < 8) throw new Error(`${path}: not a safetensors file (only ${raw.length} bytes)`);
  const headerLength = Number(raw.readBigUInt64LE(0));
  if (headerLength <= 0 || 8 + headerLength > raw.length) {
    throw new Error(`${path}: header length ${headerLength} does not fit a file of ${raw.length} bytes`);
  }
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(raw.subarray(8, 8 + headerLength).toString('utf8'));
  } catch (err) {
    throw new Error(`${path}: header is not valid JSON (${(err as Error).message})`);
  }
  const base = 8 + headerLength;
  const out = new Map<string, SafetensorsEntry>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const dtype = entry.dtype as SafetensorsEntry['dtype'];
    if (!(dtype in BYTES)) throw new Error(`${path}: tensor ${name} has unsupported dtype ${entry.dtype}`);
    const [begin, end] = entry.data_offsets;
    const count = entry.shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * BYTES[dtype] || base + end > raw.length) {
      throw new Error(
        `${path}: tensor ${name} [${entry.shape}] needs ${count * BYTES[dtype]} bytes at ${begin}..${end}, file has ${raw.length - base}`,
      );
    }
    // Copy so the typed array is aligned whatever the offset.
    const bytes = raw.subarray(base + begin, base + end);
    const buf = new ArrayBuffer(bytes.length);
    new Uint8Array(buf).set(bytes);
    const data = dtype === 'F32' ? new Float32Array(buf) : new BigInt64Array(buf);
    out.set(name, { dtype, shape: entry.shape, data });
  }
  return out;
}

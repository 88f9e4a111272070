import { createHash, randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  linkSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
} from 'node:fs';
import { join } from 'node:path';
import { checkFreeSpace, type StateEntry, tf, writeError, writeFileAtomicSync } from '@squid-ad/backend';

/** A tensor as stored in a checkpoint file (our layout, not the official one). */
export interface StoredTensor {
  dtype: 'F32' | 'I32';
  shape: number[];
  data: Float32Array | Int32Array;
}

/** What a checkpoint file holds: named tensors and one JSON metadata object. */
export interface CheckpointFile<M> {
  tensors: Map<string, StoredTensor>;
  meta: M;
}

/** Suffix of files being written; a crash can leave one behind, never a half-written checkpoint. */
export const PARTIAL_SUFFIX = '.partial';

const META_KEY = 'squid';
/** Metadata key of the SHA-256 of the tensor data (hex), verified on read when present. */
const CHECKSUM_KEY = 'squid.sha256';

// JSON has no Infinity or NaN (stringify turns them into null), yet metadata can hold them: a
// validation threshold of +Infinity means "flag nothing". Tag them so they round-trip.
const NON_FINITE = '__nonFinite__';
const encodeNonFinite = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isFinite(value) ? { [NON_FINITE]: String(value) } : value;
const decodeNonFinite = (_key: string, value: unknown) =>
  value !== null && typeof value === 'object' && NON_FINITE in value
    ? Number((value as Record<string, string>)[NON_FINITE])
    : value;

/** A tensor to store: state entries qualify; `int64` stores an int32 tensor as PyTorch's int64. */
export interface CheckpointEntry {
  name: string;
  variable: tf.Tensor;
  int64?: boolean;
}

/**
 * Writes named state and metadata as one safetensors file, atomically: the bytes go to a
 * `.partial` file that is fsynced and then renamed over `path`, so a reader (or a crash) sees
 * either the previous checkpoint or the new one, never a mix. A failure (no space: checked before
 * writing) is a `WriteError` and leaves no `.partial` behind.
 */
export function saveCheckpoint(path: string, entries: readonly CheckpointEntry[], meta: unknown): void {
  const header: Record<string, unknown> = {
    __metadata__: { [META_KEY]: JSON.stringify(meta, encodeNonFinite) },
  };
  const chunks: Uint8Array[] = [];
  let offset = 0;
  const seen = new Set<string>();
  for (const e of entries) {
    if (seen.has(e.name)) throw new Error(`checkpoint ${path}: tensor name ${e.name} appears twice`);
    seen.add(e.name);
    const v = e.variable;
    const dtype = v.dtype === 'int32' ? (e.int64 ? 'I64' : 'I32') : 'F32';
    if (v.dtype !== 'float32' && v.dtype !== 'int32')
      throw new Error(`checkpoint ${path}: ${e.name} has dtype ${v.dtype}`);
    const values = v.dataSync();
    const typed =
      dtype === 'I64'
        ? BigInt64Array.from(values as Int32Array, (x) => BigInt(x))
        : dtype === 'I32'
          ? Int32Array.from(values as Int32Array)
          : Float32Array.from(values as Float32Array);
    const bytes = new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength);
    header[e.name] = { dtype, shape: v.shape, data_offsets: [offset, offset + bytes.length] };
    chunks.push(bytes);
    offset += bytes.length;
  }
  const hash = createHash('sha256');
  for (const c of chunks) hash.update(c);
  (header.__metadata__ as Record<string, string>)[CHECKSUM_KEY] = hash.digest('hex');
  let json = Buffer.from(JSON.stringify(header), 'utf8');
  // safetensors pads the header with spaces to a multiple of 8.
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) json = Buffer.concat([json, Buffer.alloc(pad, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(json.length));
  // One writer for every file of a run: free space checked first, a failure in one line (file,
  // error, free space, what to do), the partial file removed.
  writeFileAtomicSync(path, [len, json, ...chunks], { durable: true, tempSuffix: PARTIAL_SUFFIX });
}

/**
 * Puts the checkpoint `from` at `to` as well, atomically. A hard link costs no time or space
 * (`from` is later replaced by a rename, which leaves the linked data alone); where links are
 * refused, a copy (free space checked first). Either goes to a `.partial` sibling renamed over
 * `to`, so `to` is never half written; a failure is a `WriteError` and leaves no `.partial`.
 */
export function copyCheckpoint(from: string, to: string): void {
  const tmp = `${to}.${process.pid}.${randomBytes(4).toString('hex')}${PARTIAL_SUFFIX}`;
  let bytes: number | undefined;
  try {
    try {
      linkSync(from, tmp);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOSPC') throw err;
      bytes = statSync(from).size;
      checkFreeSpace(to, bytes);
      copyFileSync(from, tmp);
    }
    renameSync(tmp, to);
    // rename() does nothing when both names are already links to one file: the link stays.
    rmSync(tmp, { force: true });
  } catch (err) {
    rmSync(tmp, { force: true });
    throw writeError(to, err, bytes);
  }
}

/** The metadata of a checkpoint, from its header alone (no tensor data read, no checksum). */
export function readCheckpointMeta<M>(path: string): M {
  const fd = openSync(path, 'r');
  try {
    const len = Buffer.alloc(8);
    readSync(fd, len, 0, 8, 0);
    const n = Number(len.readBigUInt64LE(0));
    if (!(n > 0 && n < 1e8)) throw new Error(`checkpoint ${path}: header length ${n} is not plausible`);
    const header = Buffer.alloc(n);
    if (readSync(fd, header, 0, n, 8) !== n) throw new Error(`checkpoint ${path}: truncated header`);
    const text = JSON.parse(header.toString('utf8')).__metadata__?.[META_KEY];
    if (!text) throw new Error(`checkpoint ${path}: not a squid checkpoint (no "${META_KEY}" metadata)`);
    return JSON.parse(text, decodeNonFinite) as M;
  } finally {
    closeSync(fd);
  }
}

/** Removes `.partial` files a crash left in `dir`. */
export function removePartials(dir: string): void {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return;
  }
  for (const n of names) if (n.endsWith(PARTIAL_SUFFIX)) rmSync(join(dir, n), { force: true });
}

/** Reads a checkpoint written by {@link saveCheckpoint}; errors name the file and what is wrong. */
export function readCheckpoint<M>(path: string): CheckpointFile<M> {
  let raw: Buffer;
  try {
    raw = readFileSync(path);
  } catch (err) {
    throw new Error(`cannot read checkpoint ${path}: ${(err as Error).message}`);
  }
  if (raw.length < 8) throw new Error(`checkpoint ${path}: truncated (${raw.length} bytes)`);
  const n = Number(raw.readBigUInt64LE(0));
  if (n <= 0 || 8 + n > raw.length)
    throw new Error(`checkpoint ${path}: header length ${n} does not fit ${raw.length} bytes`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(raw.subarray(8, 8 + n).toString('utf8'));
  } catch (err) {
    throw new Error(`checkpoint ${path}: header is not JSON (${(err as Error).message})`);
  }
  const metadata = header.__metadata__ as unknown as Record<string, string> | undefined;
  const metaText = metadata?.[META_KEY];
  if (!metaText) throw new Error(`checkpoint ${path}: not a squid checkpoint (no "${META_KEY}" metadata)`);
  const base = 8 + n;
  const tensors = new Map<string, StoredTensor>();
  for (const [name, e] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    if (e.dtype !== 'F32' && e.dtype !== 'I32')
      throw new Error(`checkpoint ${path}: ${name} has dtype ${e.dtype}`);
    const [b, t] = e.data_offsets;
    const count = e.shape.reduce((a, x) => a * x, 1);
    if (t - b !== count * 4 || base + t > raw.length) {
      throw new Error(`checkpoint ${path}: ${name} [${e.shape}] does not fit the file (truncated?)`);
    }
    const buf = new ArrayBuffer(t - b);
    new Uint8Array(buf).set(raw.subarray(base + b, base + t));
    const data = e.dtype === 'I32' ? new Int32Array(buf) : new Float32Array(buf);
    tensors.set(name, { dtype: e.dtype, shape: e.shape, data });
  }
  // Checkpoints written before the checksum existed have none; they are still read.
  const expected = metadata?.[CHECKSUM_KEY];
  if (expected && createHash('sha256').update(raw.subarray(base)).digest('hex') !== expected) {
    throw new Error(
      `checkpoint ${path}: its tensor data does not match the checksum written with it (the file was damaged after it was written); use the other checkpoint of the run or retrain`,
    );
  }
  for (const [name, { data, dtype }] of tensors) {
    if (dtype !== 'F32') continue;
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
    if (bad > 0)
      throw new Error(
        `checkpoint ${path}: ${name} holds ${bad} non-finite value${bad === 1 ? '' : 's'} (NaN or ±Infinity); scores from it would be meaningless — use the other checkpoint of the run or retrain`,
      );
  }
  return { tensors, meta: JSON.parse(metaText, decodeNonFinite) as M };
}

/**
 * Assigns stored tensors to live state entries. Every entry must be present with the same shape
 * (a checkpoint of a different model is an error naming the file and the tensor).
 */
export function restoreState(path: string, tensors: Map<string, StoredTensor>, entries: StateEntry[]): void {
  for (const e of entries) {
    const t = tensors.get(e.name);
    if (!t) throw new Error(`checkpoint ${path}: missing tensor ${e.name}`);
    if (t.shape.length !== e.variable.shape.length || t.shape.some((d, i) => d !== e.variable.shape[i])) {
      throw new Error(
        `checkpoint ${path}: ${e.name} has shape [${t.shape}], the model expects [${e.variable.shape}]`,
      );
    }
  }
  for (const e of entries) {
    const t = tensors.get(e.name)!;
    const dtype = e.variable.dtype === 'int32' ? 'int32' : 'float32';
    tf.tidy(() => e.variable.assign(tf.tensor(t.data, t.shape, dtype)));
  }
}

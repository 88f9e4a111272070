// Named tensors on disk in TensorFlow.js's own format: a `model.json` whose `weightsManifest`
// lists `{ name, shape, dtype }` per tensor, and one binary weights file with the raw
// little-endian data in manifest order (what `tf.io.encodeWeights` produces).
import { randomBytes } from 'node:crypto';
import { mkdir, open, readdir, readFile, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { tf } from './tf.js';
import { writeFileAtomic } from './write-atomic.js';

/** Dtypes a checkpoint may hold. */
export type SavedDtype = 'float32' | 'int32';

/** JSON-serialisable metadata stored beside the tensors (counters, RNG state, config). */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/** What {@link loadTensors} should find for one tensor. */
export interface TensorExpectation {
  shape: number[];
  dtype?: SavedDtype;
}

export interface LoadTensorsOptions {
  /** Tensors that must be present with these shapes (and dtypes); others are an error unless `allowExtra`. */
  expect?: Record<string, TensorExpectation>;
  /** With `expect`: allow tensors that `expect` does not list. Default false. */
  allowExtra?: boolean;
}

export interface LoadedTensors {
  tensors: Record<string, tf.Tensor>;
  meta: JsonValue | undefined;
}

/** The manifest file of a tensor directory. */
export const MANIFEST = 'model.json';
const FORMAT = 'squid-tensors';
const BYTES: Record<SavedDtype, number> = { float32: 4, int32: 4 };

interface Manifest {
  format: typeof FORMAT;
  formatVersion: 1;
  generatedBy: string;
  meta?: JsonValue;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

async function syncDir(dir: string): Promise<void> {
  // Makes the renames durable; not every platform can fsync a directory.
  try {
    const handle = await open(dir, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {}
}

/**
 * Saves named tensors (float32 or int32) and optional JSON metadata to directory `dir`.
 * Crash-safe: the weights go to a new uniquely named file first, then `model.json` is replaced
 * atomically (temp file + rename) to point at it; only then are older weights files removed.
 * At every moment `dir` holds either the previous complete checkpoint or the new one.
 */
export async function saveTensors(
  dir: string,
  tensors: Record<string, tf.Tensor>,
  meta?: JsonValue,
): Promise<void> {
  for (const [name, t] of Object.entries(tensors)) {
    if (t.isDisposed) throw new Error(`saveTensors(${dir}): tensor "${name}" is disposed`);
    if (!(t.dtype in BYTES)) {
      throw new Error(
        `saveTensors(${dir}): tensor "${name}" has dtype ${t.dtype}; only float32 and int32 are saved`,
      );
    }
  }
  const { data, specs } = await tf.io.encodeWeights(tensors);
  const bytes = new Uint8Array(data instanceof ArrayBuffer ? data : tf.io.concatenateArrayBuffers(data));
  await mkdir(dir, { recursive: true });
  const weightsFile = `weights-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}.bin`;
  const manifest: Manifest = {
    format: FORMAT,
    formatVersion: 1,
    generatedBy: '@squid-ad/backend saveTensors',
    ...(meta === undefined ? {} : { meta }),
    weightsManifest: [{ paths: [weightsFile], weights: specs }],
  };
  await writeFileAtomic(join(dir, weightsFile), bytes, { durable: true });
  await syncDir(dir);
  await writeFileAtomic(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 1)}\n`, { durable: true });
  await syncDir(dir);
  for (const file of await readdir(dir)) {
    const stale =
      (file.startsWith('weights-') && file.endsWith('.bin') && file !== weightsFile) ||
      file.includes('.tmp-');
    if (stale) await rm(join(dir, file), { force: true });
  }
}

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

function parseManifest(path: string, text: string): Manifest {
  let json: Manifest;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new Error(`${path}: not valid JSON (${(err as Error).message})`);
  }
  const groups = json?.weightsManifest;
  if (!Array.isArray(groups) || groups.length === 0) {
    throw new Error(`${path}: no weightsManifest (not a tensor checkpoint)`);
  }
  for (const group of groups) {
    if (!Array.isArray(group?.paths) || group.paths.length === 0 || !Array.isArray(group.weights)) {
      throw new Error(`${path}: a weightsManifest group lacks paths or weights`);
    }
    for (const w of group.weights) {
      if (typeof w?.name !== 'string' || !Array.isArray(w.shape) || !w.shape.every(Number.isInteger)) {
        throw new Error(`${path}: malformed weight entry ${JSON.stringify(w)}`);
      }
      if (!(w.dtype in BYTES) || w.quantization) {
        throw new Error(
          `${path}: tensor "${w.name}" has unsupported dtype ${w.dtype}${w.quantization ? ' (quantized)' : ''}`,
        );
      }
    }
  }
  return json;
}

/**
 * Loads a directory written by {@link saveTensors} (or any unquantized float32/int32
 * TensorFlow.js weights manifest). Every problem is an error naming the file and the tensor:
 * missing files, truncated or oversized weights, and (with `expect`) missing, extra or
 * mis-shaped tensors with expected vs found shape.
 */
export async function loadTensors(dir: string, options: LoadTensorsOptions = {}): Promise<LoadedTensors> {
  const manifestPath = join(dir, MANIFEST);
  let text: string;
  try {
    text = await readFile(manifestPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : (err as Error).message;
    throw new Error(`${manifestPath}: cannot read tensor manifest (${why})`);
  }
  const manifest = parseManifest(manifestPath, text);

  const specs: tf.io.WeightsManifestEntry[] = manifest.weightsManifest.flatMap((g) => g.weights);
  const names = new Set<string>();
  for (const s of specs) {
    if (names.has(s.name)) throw new Error(`${manifestPath}: tensor "${s.name}" is listed twice`);
    names.add(s.name);
  }
  if (options.expect) {
    for (const [name, want] of Object.entries(options.expect)) {
      const found = specs.find((s) => s.name === name);
      if (!found)
        throw new Error(`${manifestPath}: tensor "${name}" is missing (expected shape [${want.shape}])`);
      if (!sameShape(found.shape, want.shape)) {
        throw new Error(
          `${manifestPath}: tensor "${name}" has shape [${found.shape}], expected [${want.shape}]`,
        );
      }
      if (want.dtype && found.dtype !== want.dtype) {
        throw new Error(`${manifestPath}: tensor "${name}" has dtype ${found.dtype}, expected ${want.dtype}`);
      }
    }
    if (!options.allowExtra) {
      const extra = specs.filter((s) => !(s.name in (options.expect ?? {}))).map((s) => s.name);
      if (extra.length > 0)
        throw new Error(`${manifestPath}: unexpected tensors ${extra.map((n) => `"${n}"`).join(', ')}`);
    }
  }

  // Each group's paths are concatenated; its weights are laid out back to back in them.
  const tensors: Record<string, tf.Tensor> = {};
  try {
    for (const group of manifest.weightsManifest) {
      const parts: Uint8Array[] = [];
      for (const p of group.paths) {
        const file = join(dir, p);
        try {
          parts.push(await readFile(file));
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          const size = code === 'ENOENT' ? 'file not found' : (err as Error).message;
          throw new Error(`${file}: cannot read weights listed in ${manifestPath} (${size})`);
        }
      }
      const file = group.paths.map((p) => join(dir, p)).join(' + ');
      const total = parts.reduce((n, b) => n + b.length, 0);
      const buffer = new Uint8Array(total);
      let at = 0;
      for (const b of parts) {
        buffer.set(b, at);
        at += b.length;
      }
      let offset = 0;
      for (const s of group.weights) {
        const count = s.shape.reduce((a, b) => a * b, 1);
        const need = count * BYTES[s.dtype as SavedDtype];
        if (offset + need > total) {
          throw new Error(
            `${file}: truncated: tensor "${s.name}" [${s.shape}] ${s.dtype} needs bytes ${offset}..${offset + need}, file has ${total}`,
          );
        }
        const bytes = buffer.slice(offset, offset + need).buffer;
        const values = s.dtype === 'int32' ? new Int32Array(bytes) : new Float32Array(bytes);
        tensors[s.name] = tf.tensor(values, s.shape, s.dtype as SavedDtype);
        offset += need;
      }
      if (offset !== total) {
        throw new Error(`${file}: ${total} bytes but the manifest ${manifestPath} describes ${offset}`);
      }
    }
  } catch (err) {
    tf.dispose(Object.values(tensors));
    throw err;
  }
  return { tensors, meta: manifest.meta };
}

/** Whether `dir` holds a tensor manifest (cheap check before {@link loadTensors}). */
export async function hasTensors(dir: string): Promise<boolean> {
  try {
    return (await stat(join(dir, MANIFEST))).isFile();
  } catch {
    return false;
  }
}

import {
  fromOfficialLayout,
  Rng,
  readSafetensors,
  type SafetensorsEntry,
  tf,
  toOfficialLayout,
} from '@squid-ad/backend';
import { saveCheckpoint } from './checkpoint.js';
import { createSquidModel, type SquidModel } from './model.js';
import { officialArgsToConfig } from './official-args.js';
import { officialShape, officialStateEntries } from './official-state.js';

export { officialShape, officialStateEntries };

/**
 * Fills the model from official tensors (names with `generator.` / `discriminator.` prefixes).
 * Every official tensor must be used and every official-named entry of ours filled; otherwise
 * throws listing missing and unexpected names and shape mismatches. `source` names the file.
 */
export function loadOfficialState(
  model: SquidModel,
  tensors: Map<string, SafetensorsEntry>,
  source = 'weights',
): void {
  const entries = officialStateEntries(model).filter((e) => e.official !== false);
  const ours = new Map(entries.map((e) => [e.name, e]));
  const missing = entries.filter((e) => !tensors.has(e.name)).map((e) => e.name);
  const unexpected = [...tensors.keys()].filter((k) => !ours.has(k));
  const mismatched: string[] = [];
  for (const e of entries) {
    const t = tensors.get(e.name);
    if (!t) continue;
    const want = officialShape(e.layout, e.variable.shape);
    if (want.length !== t.shape.length || want.some((d, i) => d !== t.shape[i])) {
      mismatched.push(`${e.name}: file [${t.shape}] vs model [${want}]`);
    }
  }
  if (missing.length + unexpected.length + mismatched.length > 0) {
    const parts = [`${source}: official weights do not fit the model`];
    const list = (title: string, names: string[]) => {
      if (names.length === 0) return;
      const shown = names.slice(0, 20).map((n) => `    ${n}`);
      if (names.length > 20) shown.push(`    … and ${names.length - 20} more`);
      parts.push(`  ${title} (${names.length}):`, ...shown);
    };
    list('missing from the file', missing);
    list('unexpected in the file', unexpected);
    list('shape mismatches', mismatched);
    throw new Error(parts.join('\n'));
  }
  for (const e of entries) {
    const t = tensors.get(e.name) as SafetensorsEntry;
    tf.tidy(() => {
      const dtype = e.variable.dtype;
      let value: tf.Tensor;
      if (t.data instanceof BigInt64Array) {
        value = tf.tensor(
          Int32Array.from(t.data, (v) => Number(v)),
          t.shape,
          'int32',
        );
      } else {
        value = tf.tensor(t.data, t.shape, 'float32');
      }
      if (value.dtype !== dtype) value = tf.cast(value, dtype);
      e.variable.assign(fromOfficialLayout(e.layout, value));
    });
  }
}

/** The official checkpoint to load: weights file and the constructor arguments it was built with. */
export interface OfficialCheckpoint {
  /** `.safetensors` with the official names, prefixes `generator.` and `discriminator.`. */
  weights: string;
  /** Official `AE(...)` arguments (`{ positional, kwargs }` or flat). */
  ae: object;
  /** Official `SimpleDiscriminator(...)` arguments. */
  discriminator: object;
  /** Image size, when it cannot be derived from `memory_channel`. */
  imageSize?: number;
}

/** Builds the model of an official checkpoint and loads its weights, BN statistics and queues. */
export function fromOfficialCheckpoint(o: OfficialCheckpoint): SquidModel {
  const config = officialArgsToConfig(o.ae, o.discriminator, o.imageSize);
  const tensors = readSafetensors(o.weights);
  const model = createSquidModel(config, Rng.fromSeed(0));
  try {
    loadOfficialState(model, tensors, o.weights);
  } catch (err) {
    model.dispose();
    throw err;
  }
  return model;
}

/**
 * Writes the model's official state (weights, BatchNorm statistics and counters, in-painting
 * queues) as one `.safetensors` file in the official names and PyTorch layouts, atomically: what
 * {@link fromOfficialCheckpoint} reads, and what the official code loads after splitting it by
 * prefix.
 */
export function saveOfficialCheckpoint(model: SquidModel, path: string): void {
  const entries = officialStateEntries(model).filter((e) => e.official !== false);
  const official = entries.map((e) => ({
    name: e.name,
    variable: toOfficialLayout(e.layout, e.variable),
    int64: e.variable.dtype === 'int32', // num_batches_tracked
  }));
  try {
    saveCheckpoint(path, official, { format: 'squid official state', names: 'official' });
  } finally {
    // toOfficialLayout always returns a new tensor (a transpose or a clone).
    for (const o of official) o.variable.dispose();
  }
}

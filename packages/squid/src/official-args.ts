import { filterList } from '@squid-ad/gan-core';
import { parseSquidConfig, type SquidConfig } from './config.js';

type Args = Record<string, unknown>;

/** `{ positional, kwargs }` (as in a fixture's `ae_constructor`) or already flat → one flat object. */
function flatten(args: object, what: string): Args {
  if (args === null || typeof args !== 'object')
    throw new Error(`${what}: expected an object of constructor arguments`);
  const a = args as Args;
  if ('positional' in a || 'kwargs' in a) {
    return { ...((a.positional as Args) ?? {}), ...((a.kwargs as Args) ?? {}) };
  }
  return { ...a };
}

function num(a: Args, key: string, what: string, fallback?: number): number {
  const v = a[key] ?? fallback;
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`${what}: ${key} must be a number, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Converts the official constructor arguments (`AE(...)` as `ae`, `SimpleDiscriminator(...)` as
 * `discriminator`, e.g. a fixture's `ae_constructor` / `discriminator_constructor`) into a
 * config. The image size is not an AE argument; it follows from `memory_channel` (or pass it).
 */
export function officialArgsToConfig(ae: object, discriminator: object, imageSize?: number): SquidConfig {
  const what = 'official AE arguments';
  const a = flatten(ae, what);
  const d = flatten(discriminator, 'official SimpleDiscriminator arguments');
  const featuresRoot = num(a, 'features_root', what);
  const level = num(a, 'level', what, 4);
  const numPatch = num(a, 'num_patch', what, 2);
  if (a.dist === false) throw new Error(`${what}: dist=False (no teacher decoder) is not supported`);
  if (a.initial_combine === null || a.initial_combine === undefined) {
    throw new Error(`${what}: initial_combine must be set (the official forward fails without it)`);
  }
  const memoryChannel = num(a, 'memory_channel', what, 2048);
  const quarter = filterList(featuresRoot)[level] / 4;
  const bottleneck = Math.round(Math.sqrt(memoryChannel / quarter));
  if (bottleneck * bottleneck * quarter !== memoryChannel) {
    throw new Error(`${what}: memory_channel ${memoryChannel} is not (C/4)·h² for C/4 = ${quarter}`);
  }
  const size = imageSize ?? bottleneck * 2 ** level * numPatch;
  const rawMemory = a.decoder_memory;
  if (!Array.isArray(rawMemory))
    throw new Error(`${what}: decoder_memory must be a list (the official AE asserts it)`);
  const decoderMemory = rawMemory.map((m, j) => {
    if (m === null) return null;
    const mm = m as Args;
    const type = mm.type;
    if (type !== 'MemoryMatrixBlockV3' && type !== 'MemoryMatrixBlock') {
      throw new Error(`${what}: decoder_memory[${j}].type ${JSON.stringify(type)} is not supported`);
    }
    return { type, multiplier: num(mm, 'multiplier', what), numMemory: num(mm, 'num_memory', what, 9) };
  });
  const config = parseSquidConfig(
    {
      preset: 'official',
      model: {
        imageSize: size,
        inChannels: num(a, 'num_in_ch', what),
        featuresRoot,
        numPatch,
        level,
        initialCombine: num(a, 'initial_combine', what),
        ops: a.ops ?? ['concat', 'concat', 'none', 'none'],
        numSlots: num(a, 'num_slots', what, 200),
        shrink: num(a, 'shrink_thres', what),
        ratio: num(a, 'ratio', what, 0.95),
        drop: num(a, 'drop', what, 0),
        dist: true,
        memNumSlots: num(a, 'mem_num_slots', what, 200),
        decoderMemory,
      },
      discriminator: { size: num(d, 'size', 'official SimpleDiscriminator arguments', 4) },
    },
    'official constructor arguments',
  );
  return config;
}

// Test-only helpers for the official parity fixture, shared by the packages' parity tests.
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fromOfficialLayout,
  initBackend,
  readSafetensors,
  type SafetensorsEntry,
  type StateEntry,
  tf,
} from '@squid-ad/backend';
import { expect } from 'vitest';

export interface Fixture {
  dir: string;
  // biome-ignore lint/suspicious/noExplicitAny: fixture.json is free-form metadata
  json: any;
  weightsPath: string;
  /** Official state_dict entries (prefixes `generator.` / `discriminator.`), read on first use. */
  readonly weights: Map<string, SafetensorsEntry>;
  tensors: Map<string, SafetensorsEntry>;
}

// The repository carries its official fixtures (fixtures/ at its root, see fixtures/README.md),
// so a plain clone runs every parity test; the env variables point the tests at other ones.
const repoFixtures = () => fileURLToPath(new URL('../../../fixtures/', import.meta.url));

/** The fixture folder: env SQUID_FIXTURE_DIR, else the repository's `fixtures/squid-parity/visible`. */
export function fixtureDir(): string {
  return resolve(process.env.SQUID_FIXTURE_DIR ?? resolve(repoFixtures(), 'squid-parity/visible'));
}

/**
 * The training-step fixture folder (three official training iterations from the parity fixture's
 * model): env SQUID_TRAIN_FIXTURE_DIR, else the repository's `fixtures/squid-train-step/visible`.
 */
export function trainStepFixtureDir(): string {
  return resolve(process.env.SQUID_TRAIN_FIXTURE_DIR ?? resolve(repoFixtures(), 'squid-train-step/visible'));
}

/** Reads fixture.json and tensors.safetensors of `dir` (default {@link fixtureDir}); weights.safetensors on first access. */
export function loadFixture(dir = fixtureDir()): Fixture {
  if (!existsSync(resolve(dir, 'fixture.json'))) {
    throw new Error(
      `fixture not found in ${dir}: no fixture.json (the repository's copy is in fixtures/; SQUID_FIXTURE_DIR / SQUID_TRAIN_FIXTURE_DIR point elsewhere)`,
    );
  }
  const weightsPath = resolve(dir, 'weights.safetensors');
  let weights: Map<string, SafetensorsEntry> | undefined;
  return {
    dir,
    json: JSON.parse(readFileSync(resolve(dir, 'fixture.json'), 'utf8')),
    weightsPath,
    get weights() {
      weights ??= readSafetensors(weightsPath);
      return weights;
    },
    tensors: readSafetensors(resolve(dir, 'tensors.safetensors')),
  };
}

/** A safetensors entry as a tensor in its own (official) layout; I64 becomes int32. */
export function toTensor(entry: SafetensorsEntry): tf.Tensor {
  if (entry.dtype === 'I64') {
    return tf.tensor(Int32Array.from(entry.data as BigInt64Array, Number), entry.shape, 'int32');
  }
  return tf.tensor(entry.data as Float32Array, entry.shape, 'float32');
}

/** A fixture tensor (official layout). */
export function fixtureTensor(f: Fixture, name: string): tf.Tensor {
  const e = f.tensors.get(name);
  if (!e) throw new Error(`tensor ${name} not in ${f.dir}/tensors.safetensors`);
  return toTensor(e);
}

/** Assigns every official entry of `state` from `<prefix>.<name>` in weights.safetensors. */
export function loadOfficialState(f: Fixture, prefix: string, state: StateEntry[]): void {
  for (const e of state) {
    if (e.official === false) continue;
    const key = `${prefix}.${e.name}`;
    const w = f.weights.get(key);
    if (!w) throw new Error(`${key} missing from ${f.weightsPath}`);
    tf.tidy(() => {
      const ours = fromOfficialLayout(e.layout, toTensor(w));
      expect(ours.shape, key).toEqual(e.variable.shape);
      e.variable.assign(ours.dtype === e.variable.dtype ? ours : tf.cast(ours, e.variable.dtype));
    });
  }
}

export const nchwToNhwc = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
export const nhwcToNchw = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]) as tf.Tensor4D;

/** Largest |a − e| and largest excess over `atol + rtol·|e|` (≤ 0 means within tolerance). */
export function compare(
  actual: tf.Tensor,
  expected: tf.Tensor,
  atol: number,
  rtol: number,
): { maxAbs: number; excess: number; at: number; ours: number; official: number } {
  if (actual.shape.join() !== expected.shape.join()) {
    return {
      maxAbs: Number.POSITIVE_INFINITY,
      excess: Number.POSITIVE_INFINITY,
      at: -1,
      ours: Number.NaN,
      official: Number.NaN,
    };
  }
  const a = actual.dataSync();
  const e = expected.dataSync();
  let maxAbs = 0;
  let excess = Number.NEGATIVE_INFINITY;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    const x = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err - (atol + rtol * Math.abs(e[i]));
    if (err > maxAbs || Number.isNaN(err)) maxAbs = Number.isNaN(err) ? Number.POSITIVE_INFINITY : err;
    if (x > excess) {
      excess = x;
      at = i;
    }
  }
  return { maxAbs, excess, at, ours: a[at], official: e[at] };
}

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere; returns the largest abs error. */
export function expectClose(
  actual: tf.Tensor,
  expected: tf.Tensor,
  name: string,
  atol = 1e-5,
  rtol = 1e-4,
): number {
  expect(actual.shape, `${name} shape`).toEqual(expected.shape);
  const r = compare(actual, expected, atol, rtol);
  expect(
    r.excess,
    `${name}: worst at flat index ${r.at}: ours ${r.ours} vs official ${r.official}`,
  ).toBeLessThanOrEqual(0);
  return r.maxAbs;
}

/** A backend the CLIs compute on: cpu or wasm, with or without the optional oneDNN kernels. */
export interface BackendVariant {
  backend: 'cpu' | 'wasm';
  nativeKernels: boolean;
  /** the oneDNN kernels' precision (default float32; bfloat16 needs a CPU with native bf16) */
  precision?: 'float32' | 'bfloat16';
}

/** cpu and wasm, each with stock TensorFlow.js kernels and with the oneDNN kernels (for `describe.each`). */
export const BACKEND_VARIANTS: readonly BackendVariant[] = (['cpu', 'wasm'] as const).flatMap((backend) => [
  { backend, nativeKernels: false },
  { backend, nativeKernels: true },
]);

/**
 * Starts a variant's backend; returns why it cannot run here (the oneDNN kernels are optional:
 * `no native kernels: <reason>`, for `ctx.skip`), or undefined.
 */
export async function startVariant({
  backend,
  nativeKernels,
  precision,
}: BackendVariant): Promise<string | undefined> {
  const report = await initBackend({ backend, nativeKernels, ...(precision ? { precision } : {}) });
  if (nativeKernels && !report.nativeKernels.enabled)
    return `no native kernels: ${report.nativeKernels.reason}`;
  if (precision && report.precision !== precision)
    return `no ${precision}: ${report.precisionNote ?? 'not available'}`;
  return undefined;
}

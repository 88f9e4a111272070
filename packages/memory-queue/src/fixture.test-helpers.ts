// Test-only helpers for the official parity fixture (not exported from the package).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  fromOfficialLayout,
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
  weights: Map<string, SafetensorsEntry>;
  tensors: Map<string, SafetensorsEntry>;
}

/** The fixture folder: env SQUID_FIXTURE_DIR, else `../shared/fixtures/squid-parity/visible` beside the repo. */
export function fixtureDir(): string {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  return process.env.SQUID_FIXTURE_DIR ?? resolve(repo, '../shared/fixtures/squid-parity/visible');
}

export function loadFixture(): Fixture {
  const dir = fixtureDir();
  if (!existsSync(resolve(dir, 'fixture.json'))) {
    throw new Error(`parity fixture not found in ${dir} (set SQUID_FIXTURE_DIR)`);
  }
  return {
    dir,
    json: JSON.parse(readFileSync(resolve(dir, 'fixture.json'), 'utf8')),
    weights: readSafetensors(resolve(dir, 'weights.safetensors')),
    tensors: readSafetensors(resolve(dir, 'tensors.safetensors')),
  };
}

export function toTensor(entry: SafetensorsEntry): tf.Tensor {
  if (entry.dtype === 'I64')
    return tf.tensor(Int32Array.from(entry.data as BigInt64Array, Number), entry.shape, 'int32');
  return tf.tensor(entry.data as Float32Array, entry.shape, 'float32');
}

export function fixtureTensor(f: Fixture, name: string): tf.Tensor {
  const e = f.tensors.get(name);
  if (!e) throw new Error(`tensor ${name} not in ${f.dir}/tensors.safetensors`);
  return toTensor(e);
}

/** Assigns every official entry of `state` from `generator.<prefix>.<name>` in weights.safetensors. */
export function loadOfficialState(f: Fixture, prefix: string, state: StateEntry[]): void {
  for (const e of state) {
    if (e.official === false) continue;
    const key = `${prefix}.${e.name}`;
    const w = f.weights.get(key);
    if (!w) throw new Error(`${key} missing from ${f.dir}/weights.safetensors`);
    tf.tidy(() => {
      const ours = fromOfficialLayout(e.layout, toTensor(w));
      expect(ours.shape, key).toEqual(e.variable.shape);
      e.variable.assign(ours.dtype === e.variable.dtype ? ours : tf.cast(ours, e.variable.dtype));
    });
  }
}

export const nchwToNhwc = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;
export const nhwcToNchw = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 3, 1, 2]) as tf.Tensor4D;

/** Asserts |actual − expected| ≤ atol + rtol·|expected| everywhere; returns the largest abs error. */
export function expectClose(
  actual: tf.Tensor,
  expected: tf.Tensor,
  name: string,
  atol = 1e-5,
  rtol = 1e-4,
): number {
  expect(actual.shape, `${name} shape`).toEqual(expected.shape);
  const a = actual.dataSync();
  const e = expected.dataSync();
  let worst = 0;
  let worstExcess = Number.NEGATIVE_INFINITY;
  let at = -1;
  for (let i = 0; i < e.length; i++) {
    const err = Math.abs(a[i] - e[i]);
    worst = Math.max(worst, err);
    const excess = err - (atol + rtol * Math.abs(e[i]));
    if (excess > worstExcess || Number.isNaN(err)) {
      worstExcess = Number.isNaN(err) ? Number.POSITIVE_INFINITY : excess;
      at = i;
    }
  }
  expect(
    worstExcess,
    `${name}: worst at flat index ${at}: ours ${a[at]} vs official ${e[at]}`,
  ).toBeLessThanOrEqual(0);
  return worst;
}

// Test-only helpers for the official parity fixture (not exported from the package).
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readSafetensors, type SafetensorsEntry, tf } from '@squid-ad/backend';

export interface Fixture {
  dir: string;
  // biome-ignore lint/suspicious/noExplicitAny: fixture.json is free-form metadata
  json: any;
  weightsPath: string;
  tensors: Map<string, SafetensorsEntry>;
}

/** The fixture folder: env SQUID_FIXTURE_DIR, else `../shared/fixtures/squid-parity/visible` beside the repo. */
export function fixtureDir(): string {
  const repo = fileURLToPath(new URL('../../../', import.meta.url));
  return resolve(process.env.SQUID_FIXTURE_DIR ?? resolve(repo, '../shared/fixtures/squid-parity/visible'));
}

export function loadFixture(): Fixture {
  const dir = fixtureDir();
  if (!existsSync(resolve(dir, 'fixture.json')))
    throw new Error(`parity fixture not found in ${dir} (set SQUID_FIXTURE_DIR)`);
  return {
    dir,
    json: JSON.parse(readFileSync(resolve(dir, 'fixture.json'), 'utf8')),
    weightsPath: resolve(dir, 'weights.safetensors'),
    tensors: readSafetensors(resolve(dir, 'tensors.safetensors')),
  };
}

/** A fixture tensor (official layout). */
export function fixtureTensor(f: Fixture, name: string): tf.Tensor {
  const e = f.tensors.get(name);
  if (!e) throw new Error(`tensor ${name} not in ${f.dir}/tensors.safetensors`);
  return tf.tensor(e.data as Float32Array, e.shape, 'float32');
}

export const nchwToNhwc = (t: tf.Tensor): tf.Tensor4D => tf.transpose(t, [0, 2, 3, 1]) as tf.Tensor4D;

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

import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, type StateEntry, tf } from '@squid-ad/backend';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  copyCheckpoint,
  PARTIAL_SUFFIX,
  readCheckpoint,
  readCheckpointMeta,
  removePartials,
  restoreState,
  saveCheckpoint,
} from './checkpoint.js';

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
});
const dir = mkdtempSync(join(tmpdir(), 'squid-ckpt-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const entry = (name: string, variable: tf.Variable): StateEntry => ({
  name,
  variable,
  kind: 'buffer',
  layout: 'raw',
});

describe('checkpoints', () => {
  it('round-trips float32 and int32 state with metadata, bit for bit', () => {
    const a = tf.variable(tf.tensor2d([1.5, -2.25, Math.PI, 1e-30, -0, 7], [2, 3]));
    const n = tf.variable(tf.scalar(123456, 'int32'), false);
    const path = join(dir, 'a.safetensors');
    saveCheckpoint(path, [entry('layer.weight', a), entry('step', n)], { epoch: 3, note: 'ü' });
    expect(readdirSync(dir).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toEqual([]);
    const file = readCheckpoint<{ epoch: number; note: string }>(path);
    expect(file.meta).toEqual({ epoch: 3, note: 'ü' });
    expect(file.tensors.get('layer.weight')).toMatchObject({ dtype: 'F32', shape: [2, 3] });
    expect(Array.from(file.tensors.get('layer.weight')!.data)).toEqual(Array.from(a.dataSync()));
    expect(file.tensors.get('step')).toMatchObject({ dtype: 'I32', shape: [] });
    expect(file.tensors.get('step')!.data[0]).toBe(123456);
    // Standard safetensors layout: u64 header length, JSON header padded to 8 bytes.
    const raw = readFileSync(path);
    const len = Number(raw.readBigUInt64LE(0));
    expect(len % 8).toBe(0);
    expect(JSON.parse(raw.subarray(8, 8 + len).toString()).step.dtype).toBe('I32');

    const b = tf.variable(tf.zeros([2, 3]));
    const m = tf.variable(tf.scalar(0, 'int32'), false);
    restoreState(path, file.tensors, [entry('layer.weight', b), entry('step', m)]);
    expect(Array.from(b.dataSync())).toEqual(Array.from(a.dataSync()));
    expect(m.dataSync()[0]).toBe(123456);
    for (const v of [a, n, b, m]) v.dispose();
  });

  it('keeps non-finite metadata numbers (a +Infinity threshold) instead of turning them into null', () => {
    const v = tf.variable(tf.scalar(1));
    const path = join(dir, 'nonfinite.safetensors');
    saveCheckpoint(path, [entry('v', v)], {
      threshold: Number.POSITIVE_INFINITY,
      low: -Infinity,
      nan: Number.NaN,
      x: 0.5,
    });
    const { meta } = readCheckpoint<Record<string, number>>(path);
    expect(meta).toEqual({ threshold: Number.POSITIVE_INFINITY, low: -Infinity, nan: Number.NaN, x: 0.5 });
    v.dispose();
  });

  it('names the file and the tensor when something does not fit', () => {
    const a = tf.variable(tf.zeros([2, 2]));
    const path = join(dir, 'b.safetensors');
    saveCheckpoint(path, [entry('w', a)], {});
    const file = readCheckpoint(path);
    const wrong = tf.variable(tf.zeros([3]));
    expect(() => restoreState(path, file.tensors, [entry('w', wrong)])).toThrow(
      /b\.safetensors: w has shape \[2,2\], the model expects \[3\]/,
    );
    expect(() => restoreState(path, file.tensors, [entry('v', wrong)])).toThrow(
      /b\.safetensors: missing tensor v/,
    );
    // A truncated file is detected, not half-loaded.
    const cut = join(dir, 'cut.safetensors');
    writeFileSync(cut, readFileSync(path).subarray(0, readFileSync(path).length - 4));
    expect(() => readCheckpoint(cut)).toThrow(/cut\.safetensors: w \[2,2\] does not fit the file/);
    expect(() => readCheckpoint(join(dir, 'nope.safetensors'))).toThrow(/cannot read checkpoint .*nope/);
    for (const v of [a, wrong]) v.dispose();
  });

  it('refuses damaged tensor data (checksum) and non-finite weights, naming the file and tensor', () => {
    const w = tf.variable(tf.tensor1d([0.5, -1, 2, 4]));
    const path = join(dir, 'sum.safetensors');
    saveCheckpoint(path, [entry('w', w)], { epoch: 3 });
    const bytes = readFileSync(path);
    // One flipped bit in the last float: still a finite number, still the right size.
    const flipped = Buffer.from(bytes);
    flipped[flipped.length - 1] ^= 0x01;
    const damaged = join(dir, 'damaged.safetensors');
    writeFileSync(damaged, flipped);
    expect(() => readCheckpoint(damaged)).toThrow(
      /damaged\.safetensors: its tensor data does not match the checksum/,
    );
    // Non-finite weights written as such (a diverged run) are refused too.
    const nan = tf.variable(tf.tensor1d([1, Number.NaN, Number.POSITIVE_INFINITY]));
    const nanPath = join(dir, 'nan.safetensors');
    saveCheckpoint(nanPath, [entry('w', w), entry('generator.conv.weight', nan)], {});
    expect(() => readCheckpoint(nanPath)).toThrow(
      /nan\.safetensors: generator\.conv\.weight holds 2 non-finite values \(NaN or ±Infinity\)/,
    );
    expect(readCheckpoint<{ epoch: number }>(path).meta.epoch).toBe(3);
    for (const v of [w, nan]) v.dispose();
  });

  it('puts a checkpoint at a second name as a hard link, and reads metadata from the header alone', () => {
    const a = tf.variable(tf.tensor1d([1, 2, 3]));
    const from = join(dir, 'from.safetensors');
    const to = join(dir, 'to.safetensors');
    saveCheckpoint(from, [entry('w', a)], { epoch: 7, threshold: Number.POSITIVE_INFINITY });
    writeFileSync(to, 'an older checkpoint');
    copyCheckpoint(from, to);
    expect(statSync(to).ino).toBe(statSync(from).ino);
    expect(readCheckpoint(to).meta).toEqual({ epoch: 7, threshold: Number.POSITIVE_INFINITY });
    expect(readCheckpointMeta(to)).toEqual({ epoch: 7, threshold: Number.POSITIVE_INFINITY });
    // Again onto the same file: nothing changes, no link is left over.
    copyCheckpoint(from, to);
    expect(statSync(to).ino).toBe(statSync(from).ino);
    expect(readdirSync(dir).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toEqual([]);
    // Replacing `from` later leaves `to` alone.
    saveCheckpoint(from, [entry('w', a)], { epoch: 8 });
    expect(readCheckpointMeta(to)).toEqual({ epoch: 7, threshold: Number.POSITIVE_INFINITY });
    expect(readdirSync(dir).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toEqual([]);
    a.dispose();
  });

  it('removes leftovers of interrupted writes', () => {
    writeFileSync(join(dir, `last.safetensors.1.2${PARTIAL_SUFFIX}`), 'half');
    removePartials(dir);
    expect(readdirSync(dir).some((f) => f.endsWith(PARTIAL_SUFFIX))).toBe(false);
  });
});

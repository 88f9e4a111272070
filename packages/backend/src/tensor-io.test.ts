import { mkdtemp, readdir, readFile, rm, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Rng } from './rng.js';
import { hasTensors, loadTensors, MANIFEST, saveTensors } from './tensor-io.js';
import { tf } from './tf.js';

let root: string;
let n = 0;
const freshDir = () => join(root, `ckpt-${n++}`);

async function weightsFile(dir: string): Promise<string> {
  const files = (await readdir(dir)).filter((f) => f.startsWith('weights-'));
  expect(files).toHaveLength(1);
  return join(dir, files[0]);
}

async function saveSample(dir: string) {
  const w = tf.tensor2d([1.5, -2, 3.25, 4e-8, 5e30, -6], [2, 3]);
  const step = tf.scalar(42, 'int32');
  const idx = tf.tensor1d([3, -1, 2147483647], 'int32');
  await saveTensors(
    dir,
    { w, step, idx },
    { epoch: 3, rng: [...Rng.fromSeed(9).getState()], config: { lr: 1e-4 } },
  );
  tf.dispose([w, step, idx]);
}

describe('saveTensors / loadTensors', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'squid-tensor-io-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('round-trips float32 and int32 tensors and JSON metadata exactly', async () => {
    const dir = freshDir();
    const before = tf.memory().numTensors;
    await saveSample(dir);
    expect(await hasTensors(dir)).toBe(true);
    const manifest = JSON.parse(await readFile(join(dir, MANIFEST), 'utf8'));
    expect(manifest.weightsManifest[0].weights).toEqual([
      { name: 'w', shape: [2, 3], dtype: 'float32' },
      { name: 'step', shape: [], dtype: 'int32' },
      { name: 'idx', shape: [3], dtype: 'int32' },
    ]);
    const { tensors, meta } = await loadTensors(dir, {
      expect: {
        w: { shape: [2, 3], dtype: 'float32' },
        step: { shape: [], dtype: 'int32' },
        idx: { shape: [3] },
      },
    });
    expect(Array.from(tensors.w.dataSync())).toEqual(
      Array.from(new Float32Array([1.5, -2, 3.25, 4e-8, 5e30, -6])),
    );
    expect(tensors.step.dtype).toBe('int32');
    expect(tensors.step.dataSync()[0]).toBe(42);
    expect(Array.from(tensors.idx.dataSync())).toEqual([3, -1, 2147483647]);
    expect(meta).toEqual({ epoch: 3, rng: [...Rng.fromSeed(9).getState()], config: { lr: 1e-4 } });
    // The restored RNG continues the same sequence.
    const rng = Rng.fromState((meta as { rng: number[] }).rng);
    expect(rng.next()).toBe(Rng.fromSeed(9).next());
    tf.dispose(Object.values(tensors));
    expect(tf.memory().numTensors).toBe(before);
  });

  it('overwrites atomically and leaves exactly one weights file and no temp files', async () => {
    const dir = freshDir();
    await saveSample(dir);
    const first = await weightsFile(dir);
    // Leftovers of a save that crashed before committing its manifest:
    await writeFile(join(dir, 'weights-crashed.bin'), new Uint8Array(12));
    await writeFile(join(dir, `${MANIFEST}.tmp-1-abcd`), '{"partial');
    const old = await loadTensors(dir);
    expect(old.tensors.w.shape).toEqual([2, 3]);
    tf.dispose(Object.values(old.tensors));

    const v = tf.ones([4]);
    await saveTensors(dir, { v });
    v.dispose();
    const files = await readdir(dir);
    expect(files.sort()).toEqual([MANIFEST, (await weightsFile(dir)).split('/').pop()].sort());
    expect(files).not.toContain(first.split('/').pop());
    const { tensors, meta } = await loadTensors(dir);
    expect(Object.keys(tensors)).toEqual(['v']);
    expect(meta).toBeUndefined();
    tf.dispose(Object.values(tensors));
  });

  it('names the manifest when the directory or model.json is missing or broken', async () => {
    const dir = freshDir();
    await expect(loadTensors(dir)).rejects.toThrow(
      `${join(dir, MANIFEST)}: cannot read tensor manifest (file not found)`,
    );
    await saveSample(dir);
    await writeFile(join(dir, MANIFEST), '{"weightsManifest": ');
    await expect(loadTensors(dir)).rejects.toThrow(`${join(dir, MANIFEST)}: not valid JSON`);
    await writeFile(join(dir, MANIFEST), '{"modelTopology": {}}');
    await expect(loadTensors(dir)).rejects.toThrow(/model\.json: no weightsManifest/);
  });

  it('names the weights file when it is missing, truncated or too long', async () => {
    const dir = freshDir();
    await saveSample(dir);
    const file = await weightsFile(dir);
    const before = tf.memory().numTensors;
    await truncate(file, 30); // w needs 24 bytes, step 4, idx 12
    await expect(loadTensors(dir)).rejects.toThrow(
      `${file}: truncated: tensor "idx" [3] int32 needs bytes 28..40, file has 30`,
    );
    expect(tf.memory().numTensors).toBe(before);
    await writeFile(file, new Uint8Array(44));
    await expect(loadTensors(dir)).rejects.toThrow(`${file}: 44 bytes but the manifest`);
    await rm(file);
    await expect(loadTensors(dir)).rejects.toThrow(`${file}: cannot read weights listed in`);
  });

  it('checks expected names, shapes and dtypes, naming tensor and both shapes', async () => {
    const dir = freshDir();
    await saveSample(dir);
    const m = join(dir, MANIFEST);
    const all = { step: { shape: [] }, idx: { shape: [3] } };
    await expect(loadTensors(dir, { expect: { ...all, w: { shape: [3, 2] } } })).rejects.toThrow(
      `${m}: tensor "w" has shape [2,3], expected [3,2]`,
    );
    await expect(
      loadTensors(dir, { expect: { ...all, w: { shape: [2, 3], dtype: 'int32' } } }),
    ).rejects.toThrow(`${m}: tensor "w" has dtype float32, expected int32`);
    await expect(
      loadTensors(dir, { expect: { ...all, w: { shape: [2, 3] }, z: { shape: [1] } } }),
    ).rejects.toThrow(`${m}: tensor "z" is missing (expected shape [1])`);
    await expect(loadTensors(dir, { expect: { w: { shape: [2, 3] } } })).rejects.toThrow(
      `${m}: unexpected tensors "step", "idx"`,
    );
    const { tensors } = await loadTensors(dir, { expect: { w: { shape: [2, 3] } }, allowExtra: true });
    expect(Object.keys(tensors).sort()).toEqual(['idx', 'step', 'w']);
    tf.dispose(Object.values(tensors));
  });

  it('refuses dtypes it cannot store', async () => {
    const b = tf.tensor1d([true, false], 'bool');
    await expect(saveTensors(freshDir(), { b })).rejects.toThrow(
      /tensor "b" has dtype bool; only float32 and int32/,
    );
    b.dispose();
  });
});

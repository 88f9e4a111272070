import { spawn } from 'node:child_process';
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initBackend, tf } from '@squid-ad/backend';
import { encodeGreyPng, ImageDataset } from '@squid-ad/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARTIAL_SUFFIX, readCheckpoint } from '../checkpoint.js';
import { loadRun } from '../load-run.js';
import { keptCheckpoints, readMetrics, runPaths } from '../run-folder.js';
import { lockPathOf, RunLock } from '../run-lock.js';
import { tinyRunConfig } from './test-config.fixture.js';
import { type CheckpointMeta, type EpochMetrics, RunFolderError, trainRun } from './train-run.js';

// wasm: deterministic like cpu and ~2× faster for these convolutions; both runs use the same backend.
beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});

const root = mkdtempSync(join(tmpdir(), 'squid-train-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function tensorsOf(runDir: string) {
  return readCheckpoint<CheckpointMeta>(runPaths(runDir).checkpoint('last'));
}

describe('trainRun', () => {
  it('resumes exactly: 4 epochs straight = 2 epochs + resume + 2 epochs', async () => {
    const before = tf.memory().numTensors;
    const cfg = (epochs: number) => tinyRunConfig({ epochs, validateEvery: 2 });
    const straight = join(root, 'straight');
    const split = join(root, 'split');
    const a = await trainRun({ runDir: straight, config: cfg(4) });
    expect(a.status).toBe('completed');
    // The split run also keeps every 2nd epoch's checkpoint: that changes nothing it computes.
    const keeping = (epochs: number) => ({ ...cfg(epochs), run: { ...cfg(epochs).run, keepEvery: 2 } });
    const b1 = await trainRun({ runDir: split, config: keeping(2) });
    expect(b1.status).toBe('completed');
    const b2 = await trainRun({ runDir: split, config: keeping(4), resume: true });
    expect(b2).toMatchObject({ status: 'completed', epoch: 4, iteration: 4 });
    expect(tf.memory().numTensors).toBe(before);

    const A = tensorsOf(straight);
    const B = tensorsOf(split);
    expect(B.meta).toMatchObject({ epoch: 4, stepInEpoch: 0, iteration: 4 });
    expect(B.meta.rng).toEqual(A.meta.rng);
    expect(B.meta.dataPosition).toEqual(A.meta.dataPosition);
    expect(B.meta.norm).toEqual(A.meta.norm);
    expect([...B.tensors.keys()]).toEqual([...A.tensors.keys()]);
    // Weights, BN statistics, queues + pointers, Adam moments and steps: identical bit for bit.
    const names = [...A.tensors.keys()];
    expect(names.some((n) => n.endsWith('.ptr'))).toBe(true);
    expect(names).toContain('optimizer.g.step');
    let differing = 0;
    for (const n of names) {
      if (
        Buffer.compare(
          Buffer.from(A.tensors.get(n)!.data.buffer),
          Buffer.from(B.tensors.get(n)!.data.buffer),
        ) !== 0
      ) {
        differing++;
      }
    }
    expect(differing).toBe(0);
    expect(A.tensors.get('optimizer.g.step')!.data[0]).toBe(4);
    expect(A.tensors.get('optimizer.d.step')!.data[0]).toBe(4);
    const first = readMetrics(split) as unknown as EpochMetrics[];
    expect(first.map((m) => m.epoch)).toEqual([1, 2, 3, 4]);
    // validated epochs carry the AUC of every score, overall and per DigitAnatomy anomaly type
    const val = first[1].val!;
    expect(first[0].val).toBeNull();
    expect(Object.keys(val.scores!)).toEqual(['discriminator', 'recon-l1', 'recon-l1-worst-cell']);
    expect(val.scores!.discriminator.auc).toBe(val.auc);
    for (const s of Object.values(val.scores!)) {
      expect(s.auc).toBeGreaterThanOrEqual(0);
      expect(s.auc).toBeLessThanOrEqual(1);
      expect(Object.keys(s.perType).length).toBeGreaterThan(0);
      for (const t of Object.keys(s.perType)) expect(['missing', 'swap', 'flip', 'zero']).toContain(t);
    }
    const lines = readFileSync(runPaths(split).log, 'utf8');
    expect(lines).toMatch(/resumed .* at epoch 3, step 0, iteration 2/);

    // Kept checkpoints: epoch 2's still holds epoch 2's weights after `last` moved on to epoch 4.
    expect(keptCheckpoints(straight)).toEqual([]);
    expect(keptCheckpoints(split)).toEqual(['epoch-0000', 'epoch-0002', 'epoch-0004']);
    // the initial weights, validated (that validation changed nothing: the weights above are equal)
    const kept0 = readCheckpoint<CheckpointMeta>(runPaths(split).checkpoint('epoch-0000'));
    expect(kept0.meta).toMatchObject({ epoch: 0, iteration: 0 });
    expect(kept0.meta.norm).not.toBeNull();
    const kept2 = readCheckpoint<CheckpointMeta>(runPaths(split).checkpoint('epoch-0002'));
    const kept4 = readCheckpoint<CheckpointMeta>(runPaths(split).checkpoint('epoch-0004'));
    expect(kept2.meta).toMatchObject({ epoch: 2, iteration: 2 });
    expect(kept4.meta).toEqual(B.meta);
    const w = names.find((n) => n.startsWith('generator.') && n.endsWith('weight'))!;
    expect(kept2.tensors.get(w)!.data).not.toEqual(B.tensors.get(w)!.data);
    const run2 = await loadRun(split, { checkpoint: 'epoch-0002' });
    expect(run2.checkpoint).toMatchObject({ name: 'epoch-0002', epoch: 2, iteration: 2 });
    run2.dispose();
  }, 600_000);

  it('resumes exactly from a checkpoint written mid-epoch (Ctrl-C)', async () => {
    const cfg = tinyRunConfig({ epochs: 2, iterations: 2, validateEvery: 100 });
    const straight = join(root, 'mid-straight');
    const split = join(root, 'mid-split');
    await trainRun({ runDir: straight, config: cfg });
    // The stop request is polled before every iteration: the 4th poll stops after 3 iterations.
    let polls = 0;
    const stopped = await trainRun({ runDir: split, config: cfg, shouldStop: () => ++polls === 4 });
    expect(stopped).toMatchObject({ status: 'interrupted', epoch: 1, iteration: 3 });
    expect(tensorsOf(split).meta).toMatchObject({ epoch: 1, stepInEpoch: 1, iteration: 3 });
    await trainRun({ runDir: split, config: cfg, resume: true });
    const A = tensorsOf(straight);
    const B = tensorsOf(split);
    expect(B.meta.iteration).toBe(4);
    for (const [name, t] of A.tensors) {
      expect(
        Buffer.compare(Buffer.from(t.data.buffer), Buffer.from(B.tensors.get(name)!.data.buffer)),
        name,
      ).toBe(0);
    }
  }, 600_000);

  it('refuses to resume with a different config unless forced, and refuses to overwrite a run', async () => {
    const dir = join(root, 'mismatch');
    await trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }) });
    const changed = tinyRunConfig({ epochs: 1 });
    changed.squid.loss.recon = 5;
    await expect(trainRun({ runDir: dir, config: changed, resume: true })).rejects.toThrow(
      /config differs.*--force[\s\S]*squid\.loss\.recon: 1 → 5/,
    );
    await expect(trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }) })).rejects.toThrow(
      RunFolderError,
    );
    // Forced: nothing left to do at 1 of 1 epochs, but accepted.
    const forced = await trainRun({ runDir: dir, config: changed, resume: true, force: true });
    expect(forced.status).toBe('completed');
    await expect(trainRun({ runDir: join(root, 'none'), config: changed, resume: true })).rejects.toThrow(
      /cannot resume/,
    );
  });

  it('refuses bad data or a resume without a run before creating anything on disk', async () => {
    const dir = join(root, 'never-created');
    const config = tinyRunConfig({ epochs: 1 });
    config.squid.data.dataset = 'zhanglab';
    await expect(trainRun({ runDir: dir, config })).rejects.toThrow(/needs --data DIR/);
    config.run.data.dir = join(root, 'no-such-data');
    await expect(trainRun({ runDir: dir, config })).rejects.toThrow(/no-such-data/);
    await expect(
      trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }), resume: true }),
    ).rejects.toThrow(/cannot resume/);
    expect(existsSync(dir)).toBe(false);
    // A run killed before its first checkpoint: say to start it again, not just "does not exist".
    const early = join(root, 'early');
    mkdirSync(early, { recursive: true });
    writeFileSync(runPaths(early).config, JSON.stringify(tinyRunConfig({ epochs: 1 })));
    await expect(
      trainRun({ runDir: early, config: tinyRunConfig({ epochs: 1 }), resume: true }),
    ).rejects.toThrow(/before its first checkpoint\); start it again without --resume/);
  });

  it('an unreadable training image stops the run naming it in train.log; skipBad skips and lists it', async () => {
    // A ZhangLab folder (SQUID layout) with one corrupt normal image among 8.
    const data = join(root, 'zl');
    mkdirSync(join(data, 'train/normal_256'), { recursive: true });
    for (let i = 0; i < 8; i++) {
      const grey = new Float32Array(16 * 16).map((_, j) => ((i * 7 + j) % 16) / 16);
      writeFileSync(
        join(data, `train/normal_256/${i}.png`),
        encodeGreyPng({ width: 16, height: 16, data: grey }),
      );
    }
    writeFileSync(join(data, 'train/normal_256/3.png'), 'not a png');
    const config = tinyRunConfig({ epochs: 1, iterations: 4, validateEvery: 1000 });
    config.squid.data.dataset = 'zhanglab';
    Object.assign(config.run.data, { dir: data, holdoutNormal: 0, holdoutAbnormal: 0 });
    config.run.normImages = 2;
    const stopped = join(root, 'bad-image');
    await expect(trainRun({ runDir: stopped, config })).rejects.toThrow(/3\.png/);
    expect(readFileSync(runPaths(stopped).log, 'utf8')).toMatch(
      /stopped: .*train\/normal_256\/3\.png: .*--skip-bad.*; last good checkpoint: none yet/,
    );
    const skipped = join(root, 'skip-bad');
    config.run.data.skipBad = true;
    expect((await trainRun({ runDir: skipped, config })).status).toBe('completed');
    expect(readFileSync(runPaths(skipped).log, 'utf8')).toMatch(/skipping .*train\/normal_256\/3\.png: /);
  });

  it('refuses a second trainer on a run folder while the first holds it, and frees it after', async () => {
    const dir = join(root, 'locked');
    // A live trainer (this process's pid stands for it) holds the folder.
    const held = RunLock.acquire(dir);
    await expect(trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }) })).rejects.toThrow(
      new RegExp(`${dir} is being trained by pid ${process.pid} since .*one trainer per run folder`),
    );
    expect(existsSync(runPaths(dir).config)).toBe(false); // refused before writing anything
    held.release();
    const done = await trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }) });
    expect(done.status).toBe('completed');
    expect(existsSync(lockPathOf(dir))).toBe(false); // released when training ends
  });

  it('stops on a NaN loss with a clear message and keeps the last good checkpoint', async () => {
    const dir = join(root, 'nan');
    const config = tinyRunConfig({ epochs: 3 });
    // Items 0..1 (the first batch) are real-looking images; every later load is NaN.
    let loads = 0;
    const S = config.squid.model.imageSize;
    const items = Array.from({ length: 8 }, (_, i) => ({ path: `synthetic/${i}`, label: 0 as const }));
    const train = new ImageDataset('poisoned', S, items, async (_item, index) => {
      loads++;
      return loads <= 2 + config.run.normImages
        ? Float32Array.from({ length: S * S }, (_, k) => ((k * 7 + index) % 13) / 13)
        : new Float32Array(S * S).fill(Number.NaN);
    });
    const logged: string[] = [];
    const result = await trainRun({
      runDir: dir,
      config,
      data: { train, val: null, augment: false },
      log: (l) => logged.push(l),
    });
    expect(result.status).toBe('non-finite');
    expect(result.message).toMatch(/loss is NaN at iteration 1/);
    expect(logged.at(-1)).toMatch(/stopped: .*NaN.*last good checkpoint: .*last\.safetensors/);
    const last = tensorsOf(dir);
    expect(last.meta).toMatchObject({ epoch: 1, iteration: 1 });
    for (const t of last.tensors.values()) expect(t.data.every((v) => Number.isFinite(v))).toBe(true);
  });

  it('survives kill -9: the last checkpoint loads and no half-written checkpoint is left', async () => {
    const dir = join(root, 'killed');
    const here = fileURLToPath(new URL('.', import.meta.url));
    const mainDir = join(here, '../../../..');
    // tsx's loader inside the training process itself: the tsx CLI would add a wrapper process,
    // and kill -9 must hit the process that writes the checkpoints.
    const child = spawn(process.execPath, ['--import', 'tsx', join(here, 'crash-child.fixture.ts'), dir], {
      cwd: mainDir,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const exited = new Promise<number | null>((resolve) =>
      child.on('exit', (code, signal) => resolve(signal ? -1 : code)),
    );
    // Kill right after the second epoch's checkpoint line, i.e. in the middle of epoch 3.
    await new Promise<void>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (/epoch 2\n/.test(out)) resolve();
      });
      child.on('exit', () => reject(new Error(`child exited early: ${stderr}`)));
    });
    await new Promise((r) => setTimeout(r, 300));
    child.kill('SIGKILL');
    expect(await exited).toBe(-1);

    const files = readdirSync(runPaths(dir).checkpoints);
    // Only complete checkpoints carry the .safetensors name; each parses fully.
    for (const f of files.filter((f) => f.endsWith('.safetensors'))) {
      const c = readCheckpoint<CheckpointMeta>(join(runPaths(dir).checkpoints, f));
      expect(c.meta.epoch).toBeGreaterThanOrEqual(1);
      expect(c.tensors.size).toBeGreaterThan(100);
    }
    expect(existsSync(runPaths(dir).checkpoint('last'))).toBe(true);
    const run = await loadRun(dir, { checkpoint: 'last' });
    expect(run.checkpoint.epoch).toBeGreaterThanOrEqual(2);
    run.dispose();
    // Resuming continues from it (and clears any .partial a crash mid-write left).
    const done = tensorsOf(dir).meta.epoch;
    const resumed = await trainRun({
      runDir: dir,
      config: tinyRunConfig({ epochs: done + 1 }),
      resume: true,
      force: true,
    });
    expect(resumed).toMatchObject({ status: 'completed', epoch: done + 1 });
    expect(readdirSync(runPaths(dir).checkpoints).filter((f) => f.endsWith(PARTIAL_SUFFIX))).toEqual([]);
  }, 300_000);
});

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet } from '@squid-ad/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRun } from './load-run.js';
import { reconError } from './recon-error.js';
import { tinyRunConfig } from './train/test-config.fixture.js';
import { trainRun } from './train/train-run.js';

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
});
const root = mkdtempSync(join(tmpdir(), 'squid-load-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('loadRun', () => {
  it('scores each image independently of its batch, with the stored μ, σ and threshold', async () => {
    const dir = join(root, 'run');
    await trainRun({ runDir: dir, config: tinyRunConfig({ epochs: 1 }) });
    const before = tf.memory().numTensors;
    const run = await loadRun(dir);
    expect(run.checkpoint.name).toBe('best');
    expect(run.imageSize).toBe(48);
    expect(run.model.name).toBe('squid');
    expect(run.scoreNorm).toBe('per-image');
    expect(Number.isFinite(run.norm.mu) && run.norm.sigma > 0).toBe(true);
    expect(typeof run.threshold).toBe('number');

    const set = digitAnatomyTestSet({ seed: 5, normal: 2, abnormal: 1, cell: 16 });
    const batch = tf.tensor4d(Float32Array.from(set.flatMap((s) => Array.from(s.image))), [3, 48, 48, 1]);
    const all = await run.score(batch);
    expect(all.scores.length).toBe(3);
    expect(all.recon.map((r) => r.length)).toEqual([48 * 48, 48 * 48, 48 * 48]);
    for (let i = 0; i < 3; i++) {
      const one = tf.tensor4d(set[i].image, [1, 48, 48, 1]);
      const alone = await run.score(one);
      one.dispose();
      expect(alone.scores[0]).toBe(all.scores[i]);
      expect(Array.from(alone.recon[0])).toEqual(Array.from(all.recon[i]));
      // One epoch of training: σ is small, so scores may saturate at 0 or 1.
      expect(all.scores[i]).toBeGreaterThanOrEqual(0);
      expect(all.scores[i]).toBeLessThanOrEqual(1);
    }
    // The reconstruction errors of the same forward: 48 px at the default 32-px cell is one
    // cell (worst cell = mean); 16-px cells are the 3×3 digit cells.
    expect(run.reconCell).toBe(32);
    const cells = await run.score(batch, { reconCell: 16 });
    expect(Array.from(cells.scores)).toEqual(Array.from(all.scores));
    for (let i = 0; i < 3; i++) {
      const whole = reconError(set[i].image, all.recon[i], 48);
      expect(all.reconL1[i]).toBe(Math.fround(whole.l1));
      expect(all.reconL1WorstCell[i]).toBe(Math.fround(whole.l1));
      const digits = reconError(set[i].image, all.recon[i], 48, 16);
      expect(cells.reconL1WorstCell[i]).toBe(Math.fround(digits.worstCell));
      expect(digits.worstCell).toBeGreaterThan(digits.l1);
    }
    await expect(run.score(tf.zeros([1, 32, 32, 1]) as tf.Tensor4D)).rejects.toThrow(
      /images must be \[B, 48, 48, 1\]/,
    );
    batch.dispose();
    run.dispose();
    expect(tf.memory().numTensors).toBeLessThanOrEqual(before + 1);
  });

  it('explains a folder that is not a run', async () => {
    await expect(loadRun(join(root, 'missing'))).rejects.toThrow(
      /not a squid run folder \(no config\.json\)/,
    );
  });
});

import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { digitAnatomyTestSet } from '@squid-ad/datasets';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadRun, type RunScores } from '../load-run.js';
import { tinyRunConfig } from '../train/test-config.fixture.js';
import { trainRun } from '../train/train-run.js';
import { exportBundle, readBundleDir, writeBundle } from './export-bundle.js';
import { fetchBundle, loadBundle } from './load-bundle.js';

const root = mkdtempSync(join(tmpdir(), 'squid-bundle-'));
const runDir = join(root, 'run');
afterAll(() => rmSync(root, { recursive: true, force: true }));

// 24 DigitAnatomy test images (12 normal, 12 with every anomaly type), 48 px as the tiny preset.
const set = digitAnatomyTestSet({ seed: 11, normal: 12, abnormal: 12, cell: 16 });
let reference: RunScores;

async function scoreAll(scorer: { score(x: tf.Tensor4D): Promise<RunScores> }): Promise<RunScores> {
  // [B, 48, 48, 1]
  const batch = tf.tensor4d(Float32Array.from(set.flatMap((s) => Array.from(s.image))), [
    set.length,
    48,
    48,
    1,
  ]);
  try {
    return await scorer.score(batch);
  } finally {
    batch.dispose();
  }
}

const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
};

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await trainRun({ runDir, config: tinyRunConfig({ epochs: 2, iterations: 2 }) });
  const run = await loadRun(runDir);
  reference = await scoreAll(run);
  run.dispose();
}, 300_000);

describe('inference bundles', () => {
  it('float32: only the scoring state, and scores bit for bit equal to loadRun', async () => {
    const dir = join(root, 'f32');
    const bundle = exportBundle(runDir);
    const paths = writeBundle(dir, bundle);
    const m = bundle.manifest;
    expect(m.precision).toBe('float32');
    expect(m.provenance).toMatchObject({ run: runDir, checkpoint: 'best' });
    expect(m.provenance.checkpointSha256).toMatch(/^[0-9a-f]{64}$/);
    expect((m.config as { model: { imageSize: number } }).model.imageSize).toBe(48);
    expect(m.model).toBe('squid');
    expect(m.weights.bytes).toBe(statSync(paths.weights).size);
    const checkpointBytes = statSync(join(runDir, 'checkpoints/best.safetensors')).size;
    console.log(`tiny run: checkpoint ${checkpointBytes} B, float32 bundle ${m.weights.bytes} B`);
    // no Adam moments, no teacher decoder
    expect(m.weights.bytes).toBeLessThan(checkpointBytes / 2);
    expect(readFileSync(paths.weights).includes(Buffer.from('teacher_'))).toBe(false);

    const before = tf.memory().numTensors;
    const loaded = await loadBundle(readBundleDir(dir));
    expect(loaded.threshold).toBe(m.score.threshold ?? undefined);
    const out = await scoreAll(loaded);
    expect(Array.from(out.raw)).toEqual(Array.from(reference.raw));
    expect(Array.from(out.scores)).toEqual(Array.from(reference.scores));
    expect(Array.from(out.reconL1)).toEqual(Array.from(reference.reconL1));
    expect(out.recon.map((r) => Array.from(r))).toEqual(reference.recon.map((r) => Array.from(r)));
    loaded.dispose();
    expect(tf.memory().numTensors).toBe(before);
  });

  it('float16: half the size; logits within 1e-3 relative and reconstructions within 1e-3 of float32', async () => {
    const dir = join(root, 'f16');
    const f32 = exportBundle(runDir);
    const f16 = exportBundle(runDir, { precision: 'float16' });
    writeBundle(dir, f16);
    const ratio = f16.manifest.weights.bytes / f32.manifest.weights.bytes;
    expect(ratio).toBeGreaterThan(0.49);
    expect(ratio).toBeLessThan(0.52);
    const loaded = await loadBundle(readBundleDir(dir));
    const out = await scoreAll(loaded);
    loaded.dispose();
    const dLogit = maxAbsDiff(out.raw, reference.raw);
    const logitScale = Math.max(...Array.from(reference.raw, Math.abs));
    const dRecon = Math.max(...out.recon.map((r, i) => maxAbsDiff(r, reference.recon[i])));
    const dReconL1 = maxAbsDiff(out.reconL1, reference.reconL1);
    console.log(
      `float16 bundle ${f16.manifest.weights.bytes} B (${(ratio * 100).toFixed(1)} % of float32): ` +
        `max |Δd| ${dLogit.toExponential(2)} (|d| ≤ ${logitScale.toFixed(3)}), max |Δpixel| ${dRecon.toExponential(2)}, ` +
        `max |Δrecon-l1| ${dReconL1.toExponential(2)}, max |Δscore| ${maxAbsDiff(out.scores, reference.scores).toExponential(2)} ` +
        `(σ ${f32.manifest.score.norm.sigma.toExponential(2)}: an untrained discriminator's logits barely vary, so its scores amplify any change)`,
    );
    // The score A = sigmoid(−(d − μ)/σ) moves by at most |Δd|/(4σ): how far depends on the run's σ
    // (scripts/bench-bundle measures a trained run); the network itself is checked here.
    expect(dLogit).toBeLessThan(1e-3 * logitScale);
    expect(dRecon).toBeLessThan(1e-3);
    expect(dReconL1).toBeLessThan(1e-4);
  });

  it('rewriting a bundle in place leaves one weights file, the one the manifest names', () => {
    const dir = join(root, 'rewrite');
    writeBundle(dir, exportBundle(runDir));
    const again = exportBundle(runDir, { precision: 'float16' });
    writeBundle(dir, again);
    expect(readdirSync(dir).sort()).toEqual(['bundle.json', again.manifest.weights.file].sort());
  });

  it('loads over fetch from a folder URL', async () => {
    const dir = join(root, 'fetch');
    writeBundle(dir, exportBundle(runDir));
    const requested: string[] = [];
    const fakeServer = async (url: string) => {
      requested.push(url);
      const path = join(dir, url.replace('http://host/b/', ''));
      try {
        const bytes = readFileSync(path);
        return {
          ok: true,
          status: 200,
          text: async () => bytes.toString('utf8'),
          arrayBuffer: async () => bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
        };
      } catch {
        return { ok: false, status: 404, text: async () => '', arrayBuffer: async () => new ArrayBuffer(0) };
      }
    };
    const loaded = await fetchBundle('http://host/b/', { fetch: fakeServer as never });
    expect(requested).toEqual([
      'http://host/b/bundle.json',
      expect.stringMatching(/^http:\/\/host\/b\/weights-/),
    ]);
    const out = await scoreAll(loaded);
    loaded.dispose();
    expect(Array.from(out.scores)).toEqual(Array.from(reference.scores));
    await expect(fetchBundle('http://host/none/', { fetch: fakeServer as never })).rejects.toThrow(
      'http://host/none/bundle.json: HTTP 404',
    );
  });

  it('a bad bundle is an error naming the file and what is wrong', async () => {
    const dir = join(root, 'bad');
    const { weights: weightsPath, manifest: manifestPath } = writeBundle(dir, exportBundle(runDir));
    const good = readBundleDir(dir);
    const before = tf.memory().numTensors;
    // truncated weights
    await expect(loadBundle({ ...good, weights: good.weights.subarray(0, 1000) })).rejects.toThrow(
      `${weightsPath}: 1000 bytes, ${manifestPath} says ${good.weights.length} (truncated or from another bundle)`,
    );
    // one flipped byte
    const flipped = Uint8Array.from(good.weights);
    flipped[flipped.length - 3] ^= 0xff;
    await expect(loadBundle({ ...good, weights: flipped })).rejects.toThrow(
      `${weightsPath}: its SHA-256 does not match ${manifestPath}`,
    );
    // a manifest of another kind, of a future version, with a broken field
    await expect(loadBundle({ ...good, manifest: '{"format":"other"}' })).rejects.toThrow(
      `${manifestPath}: not a squid bundle manifest`,
    );
    const parsed = JSON.parse(good.manifest);
    await expect(loadBundle({ ...good, manifest: { ...parsed, version: 2 } })).rejects.toThrow(
      `${manifestPath}: bundle version 2, this squid reads version 1`,
    );
    await expect(
      loadBundle({ ...good, manifest: { ...parsed, score: { ...parsed.score, scoreNorm: 'batch' } } }),
    ).rejects.toThrow(new RegExp(`${manifestPath}: invalid bundle manifest\\n  score.scoreNorm:`));
    await expect(loadBundle({ ...good, manifest: 'nope' })).rejects.toThrow(`${manifestPath}: not JSON`);
    // weights of another model (hash and size agree with a manifest edited to match)
    const small = exportBundle(runDir);
    const other = { ...parsed, config: { ...parsed.config, model: { ...parsed.config.model, numSlots: 7 } } };
    await expect(loadBundle({ ...good, manifest: other, weights: small.weights })).rejects.toThrow(
      new RegExp(`${weightsPath}: generator\\.inpaint_block\\..* has shape \\[.*\\], the model expects`),
    );
    expect(tf.memory().numTensors).toBe(before);
    // a folder without a bundle
    mkdirSync(join(root, 'empty'));
    expect(() => readBundleDir(join(root, 'empty'))).toThrow(
      /not a squid bundle \(no bundle\.json; make one with squid-eval export\)/,
    );
    writeFileSync(join(root, 'empty', 'bundle.json'), good.manifest);
    expect(() => readBundleDir(join(root, 'empty'))).toThrow(
      /cannot read .*weights-.*safetensors \(named by .*bundle\.json\)/,
    );
  });
});

// Inference bundles of the untrained digitanatomy and zhanglab presets: their size (float32 and
// float16) and the time to score one image in the viewer in headless Chromium on wasm, next to
// Node (loadBundle on @squid-ad/backend's wasm, single-threaded unless SQUID_THREADS says
// otherwise). One JSON line per preset. Chromium: env
// SQUID_CHROMIUM (default /usr/bin/chromium); `--images N` (default 8); `--presets a,b`.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { backendReport, initBackend, Rng, tf } from '@squid-ad/backend';
import { encodeGreyPng, imageFromBytes } from '@squid-ad/datasets';
import {
  createBundle,
  createSquidModel,
  getPreset,
  loadBundle,
  type PresetName,
  scoringState,
  writeBundle,
} from '@squid-ad/squid';
import { chromium } from 'playwright-core';
import { startViewServer } from '../src/view-server.js';

const arg = (name: string) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
};
const n = Number(arg('--images') ?? 8);
const presetNames = (arg('--presets') ?? 'digitanatomy,zhanglab').split(',') as PresetName[];
const CHROMIUM = process.env.SQUID_CHROMIUM ?? '/usr/bin/chromium';
const dir = mkdtempSync(join(tmpdir(), 'squid-viewer-bench-'));

await initBackend({ backend: 'wasm' });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking'],
  headless: true,
});
try {
  for (const preset of presetNames) {
    const config = getPreset(preset);
    const S = config.model.imageSize;
    const model = createSquidModel(config, Rng.fromSeed(0));
    const tensors = scoringState(model).map((e) => ({
      name: e.name,
      shape: e.variable.shape,
      data: e.variable.dataSync() as Float32Array | Int32Array,
    }));
    model.dispose();
    const common = {
      config,
      tensors,
      score: {
        norm: { mu: 0, sigma: 1, count: 0 },
        scoreNorm: 'per-image' as const,
        reconCell: 32,
        threshold: 0.5,
        thresholdOrigin: null,
      },
      provenance: {
        run: `untrained ${preset} preset`,
        checkpoint: 'last' as const,
        epoch: 0,
        iteration: 0,
        auc: null,
        checkpointSha256: '0'.repeat(64),
        exportedAt: new Date().toISOString(),
      },
    };
    const f32 = createBundle({ ...common, precision: 'float32' });
    const f16 = createBundle({ ...common, precision: 'float16' });
    const bundleDir = join(dir, preset);
    writeBundle(bundleDir, f32);
    // Smooth random pictures as PNG files, the same bytes for Node and the page.
    const files: string[] = [];
    mkdirSync(join(dir, `${preset}-images`));
    const random = Rng.fromSeed(1);
    for (let i = 0; i < n + 1; i++) {
      const data = new Float32Array(S * S).map(
        (_, p) => 0.5 + 0.3 * Math.sin((p % S) / 7 + i) * Math.cos(p / S / 5) + 0.1 * random.next(),
      );
      const path = join(dir, `${preset}-images`, `${i}.png`);
      writeFileSync(path, encodeGreyPng({ width: S, height: S, data }));
      files.push(path);
    }

    // Node: one image per call, as the page does; the first call warms up.
    const loaded = await loadBundle(f32);
    const { readFileSync } = await import('node:fs');
    let nodeMs = 0;
    for (const [i, f] of files.entries()) {
      const t0 = performance.now();
      const x = tf.tensor4d(imageFromBytes(readFileSync(f), f, { size: S }), [1, S, S, 1]);
      await loaded.score(x);
      x.dispose();
      if (i > 0) nodeMs += performance.now() - t0;
    }
    loaded.dispose();

    const server = await startViewServer({ bundleDir });
    const page = await browser.newPage();
    let chromiumMs = Number.NaN;
    try {
      await page.goto(`${server.url}&backend=wasm`, { waitUntil: 'load' });
      await page.waitForSelector('body[data-bundle="ready"]', { timeout: 600_000 });
      await page.setInputFiles('#images', files.slice(0, 1));
      await page.waitForSelector('body[data-scoring="done"]', { timeout: 600_000 });
      await page.setInputFiles('#images', files.slice(1));
      await page.waitForFunction(
        (rows) =>
          document.querySelectorAll('#table tbody tr').length === rows &&
          document.body.dataset.scoring === 'done',
        n + 1,
        { timeout: 600_000 },
      );
      chromiumMs = Number(await page.locator('body').getAttribute('data-ms-per-image'));
    } finally {
      await page.close();
      await server.close();
    }
    console.log(
      JSON.stringify({
        bench: 'evaluator/viewer',
        preset,
        imageSize: S,
        float32Bytes: f32.manifest.weights.bytes,
        float16Bytes: f16.manifest.weights.bytes,
        images: n,
        chromiumWasmMsPerImage: Math.round(chromiumMs),
        chromiumWasmThreads: 1,
        nodeWasmMsPerImage: Math.round(nodeMs / n),
        nodeWasmThreads: backendReport()?.wasmThreads?.threads,
        // @squid-ad/backend-onednn's kernels (Node only; SQUID_NATIVE_KERNELS=0 turns them off)
        nodeNativeKernels: backendReport()?.nativeKernels.enabled,
      }),
    );
  }
} finally {
  await browser.close();
  rmSync(dir, { recursive: true, force: true });
}

// The viewer's README screenshot: exports RUN_DIR (a DigitAnatomy run of any model) as a float16 bundle,
// serves the viewer, drops DigitAnatomy test images and saves a screenshot.
// Run: pnpm exec tsx scripts/viewer-screenshot.ts RUN_DIR [OUT.png] (from apps/evaluator).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend } from '@squid-ad/backend';
import { digitAnatomyTestSet, encodeGreyPng } from '@squid-ad/datasets';
import { exportBundle, writeBundle } from '@squid-ad/squid';
import { chromium } from 'playwright-core';
import { MODELS } from '../src/models.js';
import { startViewServer } from '../src/view-server.js';

const [runDir, out = new URL('../../viewer/docs/viewer.png', import.meta.url).pathname] =
  process.argv.slice(2);
if (!runDir) throw new Error('usage: viewer-screenshot.ts RUN_DIR [OUT.png]');
await initBackend({ backend: 'cpu' });
const dir = mkdtempSync(join(tmpdir(), 'squid-viewer-shot-'));
try {
  const bundle = exportBundle(runDir, { precision: 'float16', models: MODELS });
  writeBundle(join(dir, 'bundle'), bundle);
  const plugin = MODELS.find((m) => m.name === bundle.manifest.model)!;
  const S = plugin.recipe(bundle.manifest.config).imageSize;
  const files = digitAnatomyTestSet({ seed: 0, normal: 3, abnormal: 4, cell: S / 3 }).map((s, i) => {
    const path = join(dir, `${s.type}-${i}.png`);
    writeFileSync(path, encodeGreyPng({ width: S, height: S, data: s.image }));
    return path;
  });
  const server = await startViewServer({ bundleDir: join(dir, 'bundle') });
  const browser = await chromium.launch({
    executablePath: process.env.SQUID_CHROMIUM ?? '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1100, height: 900 } });
    await page.goto(`${server.url}&backend=wasm`, { waitUntil: 'load' });
    await page.waitForSelector('body[data-bundle="ready"]', { timeout: 600_000 });
    await page.setInputFiles('#images', files);
    await page.waitForSelector('body[data-scoring="done"]', { timeout: 600_000 });
    await page.screenshot({ path: out, fullPage: true });
    console.log(`wrote ${out}`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

// squid-eval view end to end: export a tiny run, serve the viewer, drive Debian's Chromium
// headless, drop test images and read back the scores the page computed, against Node's.
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { initBackend } from '@squid-ad/backend';
import { aePlugin } from '@squid-ad/baselines';
import { digitAnatomyTestSet, encodeGreyPng } from '@squid-ad/datasets';
import { parseRunConfig, trainRun } from '@squid-ad/squid';
import { chromium } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MODELS } from './models.js';
import { runCli } from './program.js';
import { captured, trainTinyRun } from './test-run.js';
import { startViewServer, type ViewServer } from './view-server.js';

const CHROMIUM = process.env.SQUID_CHROMIUM ?? '/usr/bin/chromium';
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const dir = mkdtempSync(join(tmpdir(), 'squid-eval-view-'));
const runDir = join(dir, 'run');
const imageDir = join(dir, 'images');
const bundleDir = join(dir, 'bundle');
const aeRunDir = join(dir, 'ae-run');
const aeBundleDir = join(dir, 'ae-bundle');
let server: ViewServer;
let aeServer: ViewServer;
afterAll(async () => {
  await server?.close();
  await aeServer?.close();
  rmSync(dir, { recursive: true, force: true });
});

const images: string[] = [];

beforeAll(async () => {
  await initBackend({ backend: 'wasm' });
  await trainTinyRun(runDir, { iterations: 2, normImages: 8, val: 4 });
  mkdirSync(imageDir);
  digitAnatomyTestSet({ seed: 4, normal: 4, abnormal: 4, cell: 16 }).forEach((s, i) => {
    const path = join(imageDir, `${s.label ? 'abnormal' : 'normal'}-${i}.png`);
    writeFileSync(path, encodeGreyPng({ width: 48, height: 48, data: s.image }));
    images.push(path);
  });
  const ex = captured();
  expect(await runCli(['export', '--run', runDir, '--out', bundleDir], ex.deps)).toBe(0);
  server = await startViewServer({ bundleDir });
  // A baseline's run and bundle: the auto-encoder at the test size, 2 iterations.
  const ae = aePlugin.presetConfig('tiny');
  ae.train = { ...ae.train, epochs: 1, iterationsPerEpoch: 2, batchSize: 2 };
  const aeConfig = parseRunConfig(
    {
      model: 'ae',
      ae,
      run: { normImages: 4, sampleEvery: 100, data: { trainLength: 4, valNormal: 2, valAbnormal: 2 } },
    },
    'test config',
    { models: MODELS },
  );
  await trainRun({ runDir: aeRunDir, config: aeConfig, models: MODELS });
  expect(await runCli(['export', '--run', aeRunDir, '--out', aeBundleDir], captured().deps)).toBe(0);
  aeServer = await startViewServer({ bundleDir: aeBundleDir });
}, 300_000);

/** Node's `squid-eval score` lines on `backend` (of `run`, default the SQUID run), by file name. */
async function nodeScores(
  backend: string,
  run = runDir,
): Promise<Map<string, { score: number; reconL1: number; scoreName: string }>> {
  const sc = captured();
  expect(await runCli(['score', '--run', run, '--backend', backend, imageDir], sc.deps)).toBe(0);
  return new Map(
    sc.out
      .map((l) => JSON.parse(l) as { path: string; score: number; reconL1: number; scoreName: string })
      .map((l) => [l.path.split('/').pop()!, l]),
  );
}

describe('squid-eval view', () => {
  it('the page scores dropped images like squid-eval score, with no console error and no foreign request', async () => {
    if (!existsSync(CHROMIUM))
      throw new Error(`${CHROMIUM} not found: install it with apt-get install -y chromium (see .ci/run)`);
    const bad = join(dir, 'notes.png');
    writeFileSync(bad, 'not an image at all');
    const origin = new URL(server.url).origin;
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const results: Record<string, { rows: Record<string, string>[]; backend: string; ms: number }> = {};
    const problems: string[] = [];
    const requests: string[] = [];
    try {
      for (const backend of ['wasm', 'cpu']) {
        const page = await browser.newPage();
        page.on('console', (m) => {
          if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
        });
        page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
        page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
        page.on('request', (r) => requests.push(r.url()));
        await page.goto(`${server.url}&backend=${backend}`, { waitUntil: 'load' });
        await page.waitForSelector('body[data-bundle="ready"]', { timeout: 60_000 });
        if (backend === 'wasm') {
          await page.setInputFiles('#images', [...images, bad]);
        } else {
          // A real drop on the drop zone: a DataTransfer holding the files, built in the page.
          const payload = [...images, bad].map((p) => ({
            name: basename(p),
            base64: readFileSync(p).toString('base64'),
          }));
          const dataTransfer = await page.evaluateHandle((files) => {
            const g = globalThis as unknown as {
              DataTransfer: new () => { items: { add(f: unknown): void } };
              File: new (parts: Uint8Array[], name: string) => unknown;
              atob(s: string): string;
            };
            const dt = new g.DataTransfer();
            for (const f of files)
              dt.items.add(new g.File([Uint8Array.from(g.atob(f.base64), (c) => c.charCodeAt(0))], f.name));
            return dt;
          }, payload);
          await page.dispatchEvent('#drop-zone', 'drop', { dataTransfer });
        }
        await page.waitForSelector('body[data-scoring="done"]', { timeout: 120_000 });
        const rows = await page
          .locator('#table tbody tr')
          .evaluateAll((trs) =>
            trs.map((tr) => ({ ...(tr as unknown as { dataset: Record<string, string> }).dataset })),
          );
        results[backend] = {
          rows,
          backend: (await page.locator('#backend').textContent()) ?? '',
          ms: Number(await page.locator('body').getAttribute('data-ms-per-image')),
        };
        if (backend === 'cpu') {
          // Sorted by score, highest first; a click on the header sorts lowest first.
          const scores = () =>
            page
              .locator('#table tbody tr[data-score]')
              .evaluateAll((trs) => trs.map((tr) => Number(tr.getAttribute('data-score'))));
          const before = await scores();
          expect(before).toEqual([...before].sort((a, b) => b - a));
          await page.click('th[data-key="score"]');
          expect(await scores()).toEqual([...before].reverse());
          // CSV made in the page (a blob: download): a header, one line per file.
          const [download] = await Promise.all([page.waitForEvent('download'), page.click('#csv')]);
          const csv = readFileSync((await download.path())!, 'utf8')
            .trim()
            .split('\n');
          expect(csv[0]).toBe('file,score,anomalous,threshold,recon_l1,recon_l1_worst_cell,error');
          expect(csv).toHaveLength(images.length + 2);
        }
        await page.close();
      }
    } finally {
      await browser.close();
    }
    expect(problems).toEqual([]);
    expect(results.cpu.rows.find((row) => row.name === 'notes.png')?.error).toMatch(/not an image/);
    // Only the page, its assets and the bundle, all from the local server.
    expect(requests.filter((u) => !u.startsWith(`${origin}/`) && !u.startsWith('blob:'))).toEqual([]);
    expect(requests.some((u) => u.startsWith(`${origin}/bundle/weights-`))).toBe(true);

    for (const [backend, r] of Object.entries(results)) {
      expect(r.backend).toMatch(new RegExp(`^backend: ${backend}`));
      // The page installs squid's wasm kernels as Node's initBackend does; Node's optional oneDNN
      // kernels (which the page cannot have) are turned off, so both compute the same float ops.
      process.env.SQUID_NATIVE_KERNELS = '0';
      const node = await nodeScores(backend);
      delete process.env.SQUID_NATIVE_KERNELS;
      const good = r.rows.filter((row) => row.score !== undefined);
      expect(good.map((row) => row.name).sort()).toEqual([...node.keys()].sort());
      const dScore = Math.max(...good.map((row) => Math.abs(Number(row.score) - node.get(row.name)!.score)));
      const dRecon = Math.max(
        ...good.map((row) => Math.abs(Number(row.reconL1) - node.get(row.name)!.reconL1)),
      );
      console.log(
        `${backend}: max |browser − node| score ${dScore.toExponential(2)}, recon-l1 ${dRecon.toExponential(2)}; ` +
          `${r.ms.toFixed(0)} ms/image in Chromium`,
      );
      expect(dRecon).toBeLessThanOrEqual(1e-5);
      expect(dScore).toBeLessThanOrEqual(1e-4);
      // the unreadable file is a row with its reason, not a failure of the batch
      expect(r.rows.find((row) => row.name === 'notes.png')?.error).toMatch(/not an image/);
    }
  }, 300_000);

  it("a baseline's bundle (the auto-encoder): the page names the model and its score, and scores like squid-eval score", async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    const problems: string[] = [];
    let rows: Record<string, string>[];
    let info: string;
    let head: string;
    try {
      const page = await browser.newPage();
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      await page.goto(`${aeServer.url}&backend=wasm`, { waitUntil: 'load' });
      await page.waitForSelector('body[data-bundle="ready"]', { timeout: 60_000 });
      expect(await page.locator('body').getAttribute('data-model')).toBe('ae');
      info = (await page.locator('#bundle-info').textContent()) ?? '';
      head = (await page.locator('#score-head').textContent()) ?? '';
      await page.setInputFiles('#images', images);
      await page.waitForSelector('body[data-scoring="done"]', { timeout: 120_000 });
      rows = await page
        .locator('#table tbody tr')
        .evaluateAll((trs) =>
          trs.map((tr) => ({ ...(tr as unknown as { dataset: Record<string, string> }).dataset })),
        );
    } finally {
      await browser.close();
    }
    expect(problems).toEqual([]);
    expect(info).toMatch(
      new RegExp(
        `^bundle: ${aePlugin.title.replace(/[()]/g, '\\$&')}, score recon-mse; tiny, 48 px, float32, `,
      ),
    );
    expect(head).toBe('score (recon-mse)');
    process.env.SQUID_NATIVE_KERNELS = '0';
    const node = await nodeScores('wasm', aeRunDir);
    delete process.env.SQUID_NATIVE_KERNELS;
    expect(rows.map((row) => row.name).sort()).toEqual([...node.keys()].sort());
    const dScore = Math.max(...rows.map((row) => Math.abs(Number(row.score) - node.get(row.name)!.score)));
    const dRecon = Math.max(
      ...rows.map((row) => Math.abs(Number(row.reconL1) - node.get(row.name)!.reconL1)),
    );
    console.log(
      `ae on wasm: max |browser − node| score ${dScore.toExponential(2)}, recon-l1 ${dRecon.toExponential(2)}`,
    );
    for (const n of node.values()) expect(n.scoreName).toBe('recon-mse');
    expect(dScore).toBeLessThanOrEqual(1e-6);
    expect(dRecon).toBeLessThanOrEqual(1e-6);
  }, 300_000);

  it('squid-eval view on a folder without a bundle: exit 1 naming it, nothing served', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const v = captured();
    expect(await runCli(['view', '--bundle', empty], v.deps)).toBe(1);
    expect(v.err).toEqual([
      `squid-eval: ${empty}: not a squid bundle (no bundle.json; make one with squid-eval export)`,
    ]);
    expect(v.out).toEqual([]);
  });

  it('a bundle URL that does not hold a bundle: the page says so', async () => {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    try {
      const page = await browser.newPage();
      const pageErrors: string[] = [];
      page.on('pageerror', (e) => pageErrors.push(e.message));
      await page.goto(`${new URL(server.url).origin}/?bundle=nowhere/&backend=cpu`, { waitUntil: 'load' });
      await page.waitForSelector('#error:not([hidden])', { timeout: 60_000 });
      expect(await page.locator('#error').textContent()).toBe(
        'Cannot open the bundle: nowhere/bundle.json: HTTP 404',
      );
      expect(await page.locator('#images').isDisabled()).toBe(true);
      expect(pageErrors).toEqual([]);
    } finally {
      await browser.close();
    }
  }, 120_000);
});

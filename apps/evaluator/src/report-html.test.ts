import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import type { ImagePair, ScoredItem } from './scored-item.js';
import { writeEvaluation } from './write-evaluation.js';

// Debian's chromium; CI installs it in .ci/run.
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

const dir = mkdtempSync(join(tmpdir(), 'squid-eval-html-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Synthetic 32×32 "radiographs": a disc; anomalies carry a bright square the recon misses. */
function synthetic(n: number): { items: ScoredItem[]; pairs: ImagePair[] } {
  const S = 32;
  const items: ScoredItem[] = [];
  const pairs: ImagePair[] = [];
  for (let i = 0; i < n; i++) {
    const label = (i % 3 === 0 ? 1 : 0) as 0 | 1;
    const input = new Float32Array(S * S);
    const recon = new Float32Array(S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        const disc = (x - 16) ** 2 + (y - 16) ** 2 < 144 ? 0.6 : 0.1;
        const blob = label && x > 8 + (i % 10) && x < 16 + (i % 10) && y > 10 && y < 18 ? 0.4 : 0;
        input[y * S + x] = disc + blob;
        recon[y * S + x] = disc * 0.95;
      }
    }
    items.push({
      path: `data/test/${label ? 'lesion' : 'normal'}/img_${i}.png`,
      label,
      score: 0.3 * label + ((i * 7919) % 100) / 100,
      reconL1: 0.01 * label + ((i * 31) % 17) / 1000,
      reconL1WorstCell: 0.1 * label + ((i * 13) % 11) / 100,
      ...(label ? { type: i % 2 ? 'blob-a' : 'blob-b' } : {}),
    });
    pairs.push({ size: S, input, recon });
  }
  return { items, pairs };
}

describe('report.html', () => {
  it('opens in headless Chromium with no console errors, showing the ROC plot and the image grid', async () => {
    if (!existsSync(CHROMIUM)) {
      throw new Error(`${CHROMIUM} not found: install it with apt-get install -y chromium (see .ci/run)`);
    }
    const { items, pairs } = synthetic(60);
    const out = join(dir, 'eval');
    const { report, files } = await writeEvaluation(out, {
      items,
      threshold: { source: 'oracle', method: 'max-accuracy' },
      images: (i) => pairs[i],
      options: { resamples: 100 },
      source: { run: 'runs/synthetic', split: 'test' },
    });
    // atomic writes leave no temp files behind
    expect(readdirSync(out).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    const html = readFileSync(files.html, 'utf8');
    expect(html).not.toMatch(/(src|href)="(?!data:)[^"#]/); // self-contained: nothing to fetch

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true });
    try {
      const page = await browser.newPage({ viewport: { width: 1200, height: 1600 } });
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => problems.push(`requestfailed: ${r.url()}`));
      await page.goto(pathToFileURL(files.html).href, { waitUntil: 'load' });

      // ROC plot: an SVG with the curve, drawn with a real size
      const roc = page.locator('#roc-plot svg polyline.curve');
      expect(await roc.count()).toBe(1);
      const rocBox = await page.locator('#roc-plot svg').boundingBox();
      expect(rocBox?.width).toBeGreaterThan(300);
      expect(await page.locator('#pr-plot svg polyline.curve').count()).toBe(1);
      // image grid: the PNG decoded (naturalWidth > 0) and is captioned per row (4 most + 4 least,
      // then one of each class: a normal image and one per anomaly type, 2 types here)
      const natural = await page
        .locator('#image-grid img')
        .evaluate((img) => [
          (img as unknown as { naturalWidth: number }).naturalWidth,
          (img as unknown as { complete: boolean }).complete,
        ]);
      expect(natural).toEqual([3 * 32 + 16, true]);
      expect(await page.locator('#image-grid .cap').count()).toBe(11);
      expect(await page.locator('#metrics tr').count()).toBe(8);
      expect(await page.locator('#per-type tr').count()).toBe(3);
      expect(await page.locator('#scores tr').count()).toBe(61);
      expect(await page.locator('#scores tr:first-child th').count()).toBe(8);
      // AUC per score: rows = scores, columns = score, AUC, CI, then each anomaly type
      const table = await page
        .locator('#score-aucs tr')
        .evaluateAll((rows) =>
          rows.map((r) =>
            Array.from(
              (
                r as unknown as { querySelectorAll(s: string): ArrayLike<{ textContent: string | null }> }
              ).querySelectorAll('th, td'),
              (c) => (c.textContent ?? '').trim(),
            ),
          ),
        );
      expect(table[0]).toEqual(['score', 'AUC %', '95 % CI', 'blob-a', 'blob-b']);
      expect(table.slice(1).map((r) => r[0].split(' ')[0])).toEqual([
        'discriminator',
        'recon-l1',
        'recon-l1-worst-cell',
      ]);
      const pct = (v: number) => (v * 100).toFixed(1);
      const s = report.scores!;
      expect(table[1].slice(1)).toEqual([
        pct(report.metrics.auc),
        `${pct(report.ci.auc.lower)} – ${pct(report.ci.auc.upper)}`,
        ...report.perType.map((t) => pct(t.auc)),
      ]);
      expect(table[3][1]).toBe(pct(s['recon-l1-worst-cell'].auc));
      expect(table[2][4]).toBe(pct(s['recon-l1'].perType[1].auc));
      expect(await page.title()).toBe('SQUID evaluation report');

      const shot = join(tmpdir(), 'squid-eval-report.png');
      await page.screenshot({ path: shot, fullPage: true });
      expect(readFileSync(shot).subarray(1, 4).toString()).toBe('PNG');
      expect(problems).toEqual([]);
    } finally {
      await browser.close();
    }
  });
});

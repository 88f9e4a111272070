// squid-eval figure on two real runs of different models (SQUID and the convolutional
// auto-encoder at the tiny preset), trained through the library here: the PNG's geometry, its
// pixels against loadRun's own reconstructions, the JSON's numbers, and runs refused for
// another image size.
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initBackend, tf } from '@squid-ad/backend';
import { baselineModels } from '@squid-ad/baselines';
import { digitAnatomyDataset } from '@squid-ad/datasets';
import { loadRun, parseRunConfig, trainRun } from '@squid-ad/squid';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FigureJson } from './figure-command.js';
import { textWidth } from './grid-text.js';
import { inferno } from './heatmap.js';
import { MODELS } from './models.js';
import { decodePng, type RgbImage } from './png-image.js';
import { runCli } from './program.js';
import { captured, trainTinyRun } from './test-run.js';

const S = 48;
const PAD = 4;
const LINE = 11;
const dir = mkdtempSync(join(tmpdir(), 'squid-eval-figure-'));
const squidRun = join(dir, 'squid');
const aeRun = join(dir, 'ae');
const ae96Run = join(dir, 'ae-96');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const ae = baselineModels.find((m) => m.name === 'ae')!;

/** Trains the auto-encoder for 2 iterations of batch 2 at `preset`, with narrow layers. */
async function trainAe(runDir: string, preset: 'tiny' | 'digitanatomy'): Promise<void> {
  const config = parseRunConfig(
    {
      model: 'ae',
      ae: {
        ...ae.presetConfig(preset),
        network: { nz: 8, ngf: 4 },
        train: { batchSize: 2, epochs: 1, iterationsPerEpoch: 2 },
      },
      run: { normImages: 2, sampleEvery: 100, data: { trainLength: 4, valNormal: 2, valAbnormal: 2 } },
    },
    'test config',
    { models: MODELS },
  );
  expect((await trainRun({ runDir, config, models: MODELS })).status).toBe('completed');
}

beforeAll(async () => {
  await initBackend({ backend: 'cpu' });
  await trainTinyRun(squidRun, { iterations: 2, normImages: 2, val: 2 });
  await trainAe(aeRun, 'tiny');
  await trainAe(ae96Run, 'digitanatomy');
}, 300_000);

const pixel = (img: RgbImage, x: number, y: number) =>
  Array.from(img.data.subarray((y * img.width + x) * 3, (y * img.width + x) * 3 + 3));
const grey = (v: number) => Array(3).fill(Math.round(Math.min(1, Math.max(0, v)) * 255));

/** The generated test split the figure draws from (DigitAnatomy test seed 0, 16 px digits). */
const testSplit = (normal: number, abnormal: number) =>
  digitAnatomyDataset({ split: 'test', seed: 0, cell: S / 3, normal, abnormal });

describe('squid-eval figure', () => {
  it('one-per-type: the same 5 test images through both runs; PNG pixels are loadRun’s reconstructions', async () => {
    const out = join(dir, 'fig', 'fig6.png');
    const cli = captured();
    const code = await runCli(
      ['figure', '--run', squidRun, '--run', aeRun, '--test-size', '8+8', '--out', out, '--json'],
      cli.deps,
    );
    expect(cli.err.filter((l) => !l.startsWith('backend '))).toEqual([]);
    expect(code).toBe(0);
    const fig = JSON.parse(readFileSync(join(dir, 'fig', 'fig6.json'), 'utf8')) as FigureJson;
    expect(JSON.parse(cli.out[0])).toEqual(fig); // --json prints what FILE.json holds

    // Rows: the first normal image and the first of each anomaly type of the test split.
    const ds = testSplit(8, 8);
    const classOf = (i: number) => (ds.items[i].label === 0 ? 'normal' : ds.items[i].type!);
    expect(fig.images.map((im) => im.class).sort()).toEqual(['flip', 'missing', 'normal', 'swap', 'zero']);
    expect(fig.images[0]).toMatchObject({ class: 'normal', label: 0 });
    for (const im of fig.images) {
      expect(im.id).toBe(ds.items[im.index].path);
      expect(classOf(im.index)).toBe(im.class);
      for (let j = 0; j < im.index; j++) expect(classOf(j)).not.toBe(im.class); // the first of its class
    }
    expect(fig.data).toMatchObject({
      dataset: 'digitanatomy',
      imageSize: S,
      testSize: { normal: 8, abnormal: 8 },
      dir: null,
    });

    // Both runs list the same images, in row order, with their model, checkpoint and iterations.
    expect(fig.runs.map((r) => [r.run, r.model, r.scoreName, r.checkpoint, r.iteration])).toEqual([
      [squidRun, 'squid', 'discriminator', 'best', 2],
      [aeRun, 'ae', 'recon-mse', 'best', 2],
    ]);
    for (const r of fig.runs) expect(r.scores.map((s) => s.id)).toEqual(fig.images.map((im) => im.id));

    // Geometry: a label column as wide as the widest class name plus a pad, a 3-line header
    // (model, iterations, folder), then 5 rows × 3 columns (input, squid, ae) of 48 px + pads.
    const png = decodePng(readFileSync(out));
    const left = PAD + Math.max(...fig.images.map((im) => textWidth(im.class)));
    const top = PAD + 3 * LINE;
    expect(left).toBe(PAD + textWidth('missing'));
    expect([png.width, png.height]).toEqual([left + 3 * (S + PAD) + PAD, top + 5 * (S + PAD) + PAD]);
    expect(fig.layout).toMatchObject({ cell: S, width: png.width, height: png.height, top, left });
    expect(fig.layout.columns).toEqual([
      { x: left + PAD, shows: 'input' },
      { x: left + PAD + S + PAD, shows: 'recon', run: 0 },
      { x: left + PAD + 2 * (S + PAD), shows: 'recon', run: 1 },
    ]);
    expect(fig.layout.rows.map((r) => r.y)).toEqual([0, 1, 2, 3, 4].map((r) => top + PAD + r * (S + PAD)));
    // text: dark pixels in the header above the first reconstruction and left of the first row
    const dark = (x0: number, y0: number, w: number, h: number) => {
      let n = 0;
      for (let y = y0; y < y0 + h; y++) for (let x = x0; x < x0 + w; x++) if (pixel(png, x, y)[0] < 100) n++;
      return n;
    };
    expect(dark(fig.layout.columns[1].x, 0, S, top)).toBeGreaterThan(20);
    expect(dark(0, fig.layout.rows[0].y, left, S)).toBeGreaterThan(10);
    expect(dark(left + PAD, 0, S, PAD)).toBe(0); // the pad above the header is blank

    // Every pixel of every cell: the input, and each run's reconstruction from loadRun itself
    // (one batch of the 5 images, as the command scores them); the scores are the JSON's.
    const inputs = await Promise.all(fig.images.map(async (im) => (await ds.sample(im.index))!.image));
    const recons: Float32Array[][] = [];
    for (const [k, runDir] of [squidRun, aeRun].entries()) {
      const run = await loadRun(runDir, { models: MODELS });
      const flat = new Float32Array(inputs.length * S * S);
      inputs.forEach((im, i) => {
        flat.set(im, i * S * S);
      });
      const x = tf.tensor4d(flat, [inputs.length, S, S, 1]);
      const s = await run.score(x);
      x.dispose();
      run.dispose();
      recons.push(s.recon);
      fig.images.forEach((_, r) => {
        expect(fig.runs[k].scores[r].score).toBe(s.scores[r]);
        expect(fig.runs[k].scores[r].reconL1).toBe(s.reconL1[r]);
      });
    }
    let checked = 0;
    fig.layout.rows.forEach(({ y, image }) => {
      for (let py = 0; py < S; py++)
        for (let px = 0; px < S; px++) {
          const p = py * S + px;
          expect(pixel(png, fig.layout.columns[0].x + px, y + py)).toEqual(grey(inputs[image][p]));
          for (const k of [0, 1]) {
            expect(pixel(png, fig.layout.columns[1 + k].x + px, y + py)).toEqual(grey(recons[k][image][p]));
            checked++;
          }
        }
    });
    expect(checked).toBe(5 * 2 * S * S);
    // the two models reconstruct differently, so a swapped column would show
    expect(recons[0][0]).not.toEqual(recons[1][0]);
  }, 120_000);

  it('--images 2 --diff: the first 2 normal and 2 anomalous images; a heatmap column after each reconstruction', async () => {
    const out = join(dir, 'fig2.png');
    const cli = captured();
    const code = await runCli(
      [
        'figure',
        '--run',
        aeRun,
        '--run',
        squidRun,
        '--test-size',
        '4+4',
        '--images',
        '2',
        '--diff',
        '--out',
        out,
      ],
      cli.deps,
    );
    expect(cli.err.filter((l) => !l.startsWith('backend '))).toEqual([]);
    expect(code).toBe(0);
    expect(cli.out).toEqual([`figure: ${out} (4 images × 2 runs); numbers: ${join(dir, 'fig2.json')}`]);
    const fig = JSON.parse(readFileSync(join(dir, 'fig2.json'), 'utf8')) as FigureJson;
    const ds = testSplit(4, 4);
    const firstOf = (label: 0 | 1) =>
      ds.items.flatMap((it, i) => (it.label === label ? [i] : [])).slice(0, 2);
    expect(fig.images.map((im) => im.index)).toEqual([...firstOf(0), ...firstOf(1)]);
    expect(fig.runs.map((r) => r.model)).toEqual(['ae', 'squid']);
    expect(fig.layout.columns.map((c) => c.shows)).toEqual(['input', 'recon', 'diff', 'recon', 'diff']);
    const png = decodePng(readFileSync(out));
    expect(png.width).toBe(fig.layout.left + 5 * (S + PAD) + PAD);
    expect(png.height).toBe(fig.layout.top + 4 * (S + PAD) + PAD);

    // a diff pixel: inferno(|input − recon| / the figure's one scale), recon from loadRun
    const run = await loadRun(squidRun, { models: MODELS });
    const input = (await ds.sample(fig.images[3].index))!.image;
    const x = tf.tensor4d(input, [1, S, S, 1]);
    const { recon } = await run.score(x);
    x.dispose();
    run.dispose();
    const diffCol = fig.layout.columns[4];
    expect(diffCol).toMatchObject({ shows: 'diff', run: 1 });
    const y = fig.layout.rows[3].y;
    const p = 20 * S + 24;
    expect(pixel(png, diffCol.x + 24, y + 20)).toEqual(
      inferno(Math.abs(input[p] - recon[0][p]) / fig.layout.diffScale!),
    );
  }, 120_000);

  it('refuses runs of another image size, naming the run; writes nothing', async () => {
    const out = join(dir, 'mixed.png');
    const cli = captured();
    const code = await runCli(
      ['figure', '--run', squidRun, '--run', ae96Run, '--test-size', '4+4', '--out', out],
      cli.deps,
    );
    expect(code).toBe(1);
    expect(cli.err.filter((l) => !l.startsWith('backend '))).toEqual([
      `squid-eval: ${ae96Run}: its model takes 96 px images, ${squidRun}'s 48 px; a figure shows the same images through every run: use runs of one preset`,
    ]);
    expect(existsSync(out)).toBe(false);
    expect(existsSync(join(dir, 'mixed.json'))).toBe(false);
  }, 120_000);

  it('--help lists the command with an example; figure --help shows its own', async () => {
    const top = captured();
    expect(await runCli(['--help'], top.deps)).toBe(0);
    expect(top.out.join('\n')).toMatch(/\n {2}figure \[options\] +the paper's Figure 6 for several runs/);
    expect(top.out.join('\n')).toContain('squid-eval figure --run runs/squid --run runs/ae --out fig6.png');
    const own = captured();
    expect(await runCli(['figure', '--help'], own.deps)).toBe(0);
    expect(own.out.join('\n')).toContain(
      'Example:\n  squid-eval figure --run runs/squid --run runs/ae --run runs/memae --test-size 200+200 --out fig6.png',
    );
  });

  it('refuses a run of another data set at the same size, naming it', async () => {
    // the tiny AE's folder, its config saying it trained on ZhangLab (same 48 px network and weights)
    const zl = join(dir, 'ae-zhanglab');
    cpSync(aeRun, zl, { recursive: true });
    const config = JSON.parse(readFileSync(join(zl, 'config.json'), 'utf8'));
    config.ae.preset = 'zhanglab';
    writeFileSync(join(zl, 'config.json'), JSON.stringify(config));
    const cli = captured();
    const out = join(dir, 'mixed-data.png');
    expect(
      await runCli(['figure', '--run', squidRun, '--run', zl, '--test-size', '4+4', '--out', out], cli.deps),
    ).toBe(1);
    expect(cli.err.filter((l) => !l.startsWith('backend '))).toEqual([
      `squid-eval: ${zl}: trained on zhanglab, ${squidRun} on digitanatomy; a figure shows the same images through every run: use runs of one data set (or pass --data)`,
    ]);
    expect(existsSync(out)).toBe(false);
  }, 120_000);

  it('refuses an --out that is not a PNG and a bad --images, before loading anything', async () => {
    const a = captured();
    expect(await runCli(['figure', '--run', squidRun, '--out', join(dir, 'fig.jpg')], a.deps)).toBe(1);
    expect(a.err).toEqual([
      `squid-eval: --out ${join(dir, 'fig.jpg')}: the figure is a PNG; name it FILE.png`,
    ]);
    const b = captured();
    expect(await runCli(['figure', '--run', squidRun, '--images', '0', '--out', 'x.png'], b.deps)).toBe(1);
    expect(b.err[0]).toMatch(
      /--images <which>' argument '0' is invalid\. must be one-per-type or a positive integer/,
    );
  });
});

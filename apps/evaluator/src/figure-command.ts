import { basename, resolve } from 'node:path';
import { describeBackend, writeFileAtomicSync } from '@squid-ad/backend';
import { firstOfEachClass, firstOfEachLabel } from './class-examples.js';
import type { CliDeps, EvalSplit, ScoringRun } from './deps.js';
import { DEFAULT_SCORE_NAME } from './evaluation-report.js';
import { absDifference } from './heatmap.js';
import { drawGrid, type GridCell, type GridLayout } from './image-grid.js';
import type { CheckpointChoice } from './run-checkpoint.js';
import { scoreImages } from './score-images.js';

/** Which test images a figure shows: Figure 6's one per class, or the first N normal and N anomalous. */
export type FigureImages = 'one-per-type' | number;

/** On data without anomaly types, `one-per-type` shows this many normal and anomalous images each. */
export const UNTYPED_IMAGES = 4;

export interface FigureCommandOptions {
  /** run folders, one column each, in this order */
  runs: string[];
  checkpoint?: CheckpointChoice;
  /** normal and abnormal images of the generated DigitAnatomy test split the rows come from */
  testSize?: { normal: number; abnormal: number };
  /** a data folder instead of the runs' own data */
  data?: string;
  images: FigureImages;
  /** the PNG; the numbers go to the same path with `.json` */
  out: string;
  /** a |input − reconstruction| heatmap column after each run's reconstruction */
  diff?: boolean;
  backend?: string;
  json?: boolean;
}

/** One row of the figure: a test image. */
export interface FigureImage {
  /** position in the test split */
  index: number;
  /** the image's path (generated DigitAnatomy: `digitanatomy:test/N`) */
  id: string;
  label: 0 | 1;
  /** what the row's label says: `normal`, the anomaly type, or `anomalous` */
  class: string;
}

/** One column group of the figure: a run, its checkpoint, and its numbers for every row. */
export interface FigureRun {
  run: string;
  model: string;
  title: string;
  scoreName: string;
  checkpoint: string;
  epoch: number | null;
  iteration: number | null;
  /** per row, in row order: the model's own score and `recon-l1` (mean |reconstruction − input|) */
  scores: Array<{ id: string; score: number; reconL1: number }>;
}

/** What FILE.json holds beside FILE.png. */
export interface FigureJson {
  format: 'squid-eval-figure/1';
  png: string;
  createdAt: string;
  data: {
    dataset: string;
    split: 'test';
    imageSize: number;
    /** `--data`, else the runs' own data folder; null for generated DigitAnatomy */
    dir: string | null;
    testSize: { normal: number; abnormal: number } | null;
    selection: string;
  };
  images: FigureImage[];
  runs: FigureRun[];
  /** where each picture is in the PNG: column x (input, each run's recon and diff), row y, in pixels */
  layout: {
    cell: number;
    width: number;
    height: number;
    top: number;
    left: number;
    diffScale: number | null;
    columns: Array<{ x: number; shows: 'input' | 'recon' | 'diff'; run?: number }>;
    rows: Array<{ y: number; image: number }>;
  };
}

/** A run's model as the figure names it; runs written before plug-ins are SQUID's. */
const modelOf = (run: ScoringRun) =>
  run.model ?? { name: 'squid', title: 'SQUID', scoreName: DEFAULT_SCORE_NAME };

/** The data a run's test images come from, for refusing runs that would show other images. */
function dataKey(run: ScoringRun, dataDir: string | undefined): { dataset: string; dir: string | null } {
  const dataset = run.data?.dataset ?? '(unknown)';
  if (dataDir) return { dataset, dir: resolve(dataDir) };
  return { dataset, dir: run.data?.dir ? resolve(run.data.dir) : null };
}

/** The rows: Figure 6's first normal and first of each anomaly type, or the first N of each label. */
function pickImages(split: EvalSplit, images: FigureImages): { picked: number[]; selection: string } {
  // as `evaluate` keeps them: a type on anomalous images only
  const items = split.items.map((it) => ({
    label: it.label,
    ...(it.label === 1 && it.type !== undefined ? { type: it.type } : {}),
  }));
  if (images === 'one-per-type') {
    const picked = firstOfEachClass(items);
    if (picked.length > 0)
      return { picked, selection: 'one-per-type: the first normal image and the first of each anomaly type' };
    return {
      picked: firstOfEachLabel(items, UNTYPED_IMAGES),
      selection: `one-per-type on data without anomaly types: the first ${UNTYPED_IMAGES} normal and ${UNTYPED_IMAGES} anomalous images`,
    };
  }
  return {
    picked: firstOfEachLabel(items, images),
    selection: `the first ${images} normal and ${images} anomalous images`,
  };
}

/**
 * `squid-eval figure`: the paper's Figure 6 for several runs at once. The same test images (from
 * the first run's test split; every run must share its image size and data set) go through each
 * run; writes a PNG (header: each run's model and iteration count; rows labelled with their
 * class; columns: input, then each run's reconstruction, with `diff` its |difference| map) and,
 * beside it, FILE.json with every image's scores per run. Runs are loaded one at a time.
 */
export async function figureCommand(
  opts: FigureCommandOptions,
  deps: CliDeps,
): Promise<{ png: string; json: string; figure: FigureJson }> {
  if (opts.runs.length === 0) throw new Error('figure: give at least one --run');
  if (!/\.png$/i.test(opts.out)) throw new Error(`--out ${opts.out}: the figure is a PNG; name it FILE.png`);
  const pngPath = opts.out;
  const jsonPath = opts.out.replace(/\.png$/i, '.json');

  let first:
    | { dir: string; size: number; data: { dataset: string; dir: string | null }; split: EvalSplit }
    | undefined;
  let picked: number[] = [];
  let selection = '';
  let images: Float32Array[] = [];
  const runs: FigureRun[] = [];
  const recons: Float32Array[][] = [];
  for (const dir of opts.runs) {
    const run = await deps.loadRun(dir, { checkpoint: opts.checkpoint, backend: opts.backend });
    try {
      if (!first && run.backend) deps.stderr(describeBackend(run.backend));
      const size = run.config.imageSize;
      const data = dataKey(run, opts.data);
      if (!first) {
        const split = await deps.openSplit({
          run,
          runDir: dir,
          dataDir: opts.data,
          split: 'test',
          size,
          ...(opts.testSize ? { generated: opts.testSize } : {}),
        });
        ({ picked, selection } = pickImages(split, opts.images));
        if (picked.length === 0) throw new Error(`${dir}: the test split has no images`);
        images = [];
        for (const i of picked) images.push(await split.load(i));
        first = { dir, size, data, split };
      } else if (size !== first.size) {
        throw new Error(
          `${dir}: its model takes ${size} px images, ${first.dir}'s ${first.size} px; a figure shows the same images through every run: use runs of one preset`,
        );
      } else if (data.dataset !== first.data.dataset || data.dir !== first.data.dir) {
        const what = (d: typeof data) => `${d.dataset}${d.dir ? ` in ${d.dir}` : ''}`;
        throw new Error(
          `${dir}: trained on ${what(data)}, ${first.dir} on ${what(first.data)}; a figure shows the same images through every run: use runs of one data set (or pass --data)`,
        );
      }
      const ids = picked.map((i) => first!.split.items[i].path);
      const scored = await scoreImages(run, images, 16, undefined, ids);
      const model = modelOf(run);
      runs.push({
        run: dir,
        model: model.name,
        title: model.title,
        scoreName: model.scoreName,
        checkpoint: run.checkpoint ?? opts.checkpoint ?? 'best',
        epoch: run.trainedTo?.epoch ?? null,
        iteration: run.trainedTo?.iteration ?? null,
        scores: ids.map((id, k) => ({ id, score: scored.scores[k], reconL1: scored.reconL1[k] })),
      });
      recons.push(scored.recon);
    } finally {
      run.dispose();
    }
  }
  if (!first) throw new Error('figure: no run loaded');
  const { size, split } = first;

  const rowsInfo: FigureImage[] = picked.map((i) => {
    const it = split.items[i];
    return {
      index: i,
      id: it.path,
      label: it.label,
      class: it.label === 0 ? 'normal' : (it.type ?? 'anomalous'),
    };
  });
  const columns: FigureJson['layout']['columns'] = [{ x: 0, shows: 'input' }];
  const header: string[][] = [['input']];
  runs.forEach((r, k) => {
    columns.push({ x: 0, shows: 'recon', run: k });
    header.push([r.model, r.iteration === null ? r.checkpoint : `it ${r.iteration}`, basename(r.run)]);
    if (opts.diff) {
      columns.push({ x: 0, shows: 'diff', run: k });
      header.push(['|diff|']);
    }
  });
  const { png, layout } = drawGrid({
    cell: size,
    header,
    sections: [
      {
        rows: images.map((input, r) => ({
          label: [rowsInfo[r].class],
          cells: [
            { grey: input },
            ...recons.flatMap((rec): GridCell[] =>
              opts.diff ? [{ grey: rec[r] }, { diff: absDifference(input, rec[r]) }] : [{ grey: rec[r] }],
            ),
          ],
        })),
      },
    ],
  });
  const figure: FigureJson = {
    format: 'squid-eval-figure/1',
    png: pngPath,
    createdAt: new Date().toISOString(),
    data: {
      dataset: first.data.dataset,
      split: 'test',
      imageSize: size,
      dir: first.data.dir,
      testSize: opts.testSize ?? null,
      selection,
    },
    images: rowsInfo,
    runs,
    layout: layoutJson(layout, columns, opts.diff ?? false),
  };
  writeFileAtomicSync(pngPath, png);
  writeFileAtomicSync(jsonPath, `${JSON.stringify(figure, null, 2)}\n`);
  if (opts.json) deps.stdout(JSON.stringify(figure));
  else
    deps.stdout(
      `figure: ${pngPath} (${rowsInfo.length} images × ${runs.length} run${runs.length === 1 ? '' : 's'}); numbers: ${jsonPath}`,
    );
  return { png: pngPath, json: jsonPath, figure };
}

function layoutJson(
  layout: GridLayout,
  columns: FigureJson['layout']['columns'],
  diff: boolean,
): FigureJson['layout'] {
  return {
    cell: layout.cell,
    width: layout.width,
    height: layout.height,
    top: layout.top,
    left: layout.left,
    diffScale: diff ? layout.diffScale : null,
    columns: columns.map((c, k) => ({ ...c, x: layout.columns[k] })),
    rows: layout.rows.map((r) => ({ y: r.y, image: r.index })),
  };
}

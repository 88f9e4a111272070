import { tf } from '@squid-ad/backend';
import { fetchBundle, loadBundle, type SquidBundle } from '@squid-ad/squid';
import { BACKEND_ORDER, type BrowserBackend, chooseBackend } from './backend-choice.js';
import { absDifference, greyToRgba, heatmapOverInput } from './heatmap.js';
import { MODELS } from './models.js';
import { type ResultRow, rowsToCsv, type SortKey, sortRows } from './results.js';
import { type InputFile, type Scored, scoreFiles } from './score-files.js';

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const params = new URLSearchParams(location.search);

let bundle: SquidBundle | undefined;
const scored: Scored[] = [];
let sort: { key: SortKey; descending: boolean } = { key: 'score', descending: true };

function showError(message: string | undefined): void {
  const el = $('error');
  el.hidden = !message;
  el.textContent = message ?? '';
}

// 4 decimals (SQUID's scores are in [0, 1]); 3 significant digits below 0.001, where some
// models' scores live (GANomaly's latent distance), so they do not all read 0.0000.
const fmt = (v: number | undefined) =>
  v === undefined
    ? ''
    : v === 0 || Math.abs(v) >= 1e-3 || !Number.isFinite(v)
      ? v.toFixed(4)
      : v.toPrecision(3);

function canvasOf(rgba: Uint8ClampedArray, size: number, title: string): HTMLCanvasElement {
  const c = document.createElement('canvas');
  c.width = size;
  c.height = size;
  c.title = title;
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba), size, size), 0, 0);
  return c;
}

function renderTable(): void {
  const body = $('table').querySelector('tbody')!;
  body.replaceChildren();
  const byName = new Map(scored.map((s) => [s.row, s]));
  const size = bundle?.imageSize ?? 0;
  for (const row of sortRows(
    scored.map((s) => s.row),
    sort.key,
    sort.descending,
  )) {
    const tr = document.createElement('tr');
    tr.dataset.name = row.name;
    const cells: (string | Node)[] = [row.name];
    if (row.error) {
      tr.className = 'bad';
      tr.dataset.error = row.error;
      cells.push(`unreadable: ${row.error}`);
    } else {
      // Full precision for scripts and tests; the cells show 4 decimals.
      tr.dataset.score = String(row.score);
      tr.dataset.logit = String(row.logit);
      tr.dataset.reconL1 = String(row.reconL1);
      if (row.flagged) tr.className = 'flagged';
      cells.push(fmt(row.score), row.flagged === null ? '—' : row.flagged ? 'yes' : 'no');
      cells.push(fmt(row.reconL1), fmt(row.reconL1WorstCell));
      const s = byName.get(row)!;
      const pics = document.createElement('span');
      pics.append(
        canvasOf(greyToRgba(s.input!), size, 'input'),
        canvasOf(greyToRgba(s.recon!), size, 'reconstruction'),
        canvasOf(
          heatmapOverInput(s.input!, absDifference(s.input!, s.recon!)),
          size,
          '|difference| over the input',
        ),
      );
      cells.push(pics);
    }
    cells.forEach((content, i) => {
      const td = document.createElement('td');
      if (row.error && i === 1) td.colSpan = 5;
      if (!row.error && i >= 1 && i <= 4) td.className = i === 2 ? 'flag' : 'num';
      td.append(content);
      tr.append(td);
    });
    body.append(tr);
  }
  for (const th of $('table').querySelectorAll<HTMLElement>('th[data-key]')) {
    th.classList.toggle('sorted-asc', th.dataset.key === sort.key && !sort.descending);
    th.classList.toggle('sorted-desc', th.dataset.key === sort.key && sort.descending);
  }
  $('results').hidden = scored.length === 0;
}

async function useBundle(load: () => Promise<SquidBundle>): Promise<void> {
  showError(undefined);
  $('bundle-info').textContent = 'loading bundle…';
  try {
    const next = await load();
    bundle?.dispose();
    bundle = next;
  } catch (err) {
    $('bundle-info').textContent = bundle ? describe(bundle) : 'no bundle loaded';
    showError(`Cannot open the bundle: ${(err as Error).message}`);
    return;
  }
  $('bundle-info').textContent = describe(bundle);
  // The score column is the model's own score (SQUID: the discriminator's): say which.
  $('score-head').textContent = `score (${bundle.model.scoreName})`;
  document.body.dataset.model = bundle.model.name;
  $('drop').classList.remove('disabled');
  $<HTMLInputElement>('images').disabled = false;
  document.body.dataset.bundle = 'ready';
}

/** The bundle line: which model and score, its data, size, precision, threshold and run. */
function describe(b: SquidBundle): string {
  const m = b.manifest;
  // Every model's config so far has a preset; a config without one is shown without it.
  const preset = (m.config as { preset?: unknown }).preset;
  const t = m.score.threshold;
  const origin = m.score.thresholdOrigin;
  const threshold =
    t === null
      ? 'no threshold'
      : `threshold ${fmt(t)}${origin ? ` (${origin.method} on the ${origin.split} split, epoch ${origin.epoch})` : ''}`;
  return `bundle: ${b.model.title}, score ${b.model.scoreName}; ${typeof preset === 'string' ? `${preset}, ` : ''}${b.imageSize} px, ${m.precision}, ${threshold}; run ${m.provenance.run} (${m.provenance.checkpoint}, epoch ${m.provenance.epoch})`;
}

async function scoreInputs(files: InputFile[]): Promise<void> {
  if (!bundle || files.length === 0) return;
  showError(undefined);
  const progress = $<HTMLProgressElement>('progress');
  progress.hidden = false;
  progress.max = files.length;
  progress.value = 0;
  document.body.dataset.scoring = 'running';
  const started = performance.now();
  const results = await scoreFiles(bundle, files, (s, done, total) => {
    scored.push(s);
    progress.value = done;
    $('progress-text').textContent = `${done} / ${total}`;
    renderTable();
  });
  const ms = (performance.now() - started) / files.length;
  const bad = results.filter((r) => r.row.error).length;
  $('progress-text').textContent =
    `${files.length} image${files.length === 1 ? '' : 's'}, ${ms.toFixed(0)} ms each` +
    (bad ? `; ${bad} unreadable (see the table)` : '');
  document.body.dataset.msPerImage = String(ms);
  document.body.dataset.scoring = 'done';
}

const fromFile = (f: File): InputFile => ({
  name: f.name,
  bytes: async () => new Uint8Array(await f.arrayBuffer()),
});

function wire(): void {
  $('bundle-url-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const url = $<HTMLInputElement>('bundle-url').value.trim();
    if (url) void useBundle(() => fetchBundle(url, { models: MODELS }));
  });
  $<HTMLInputElement>('bundle-files').addEventListener('change', (e) => {
    const files = Array.from((e.target as HTMLInputElement).files ?? []);
    const manifest = files.find((f) => f.name.endsWith('.json'));
    const weights = files.find((f) => !f.name.endsWith('.json'));
    if (!manifest || !weights) {
      showError('Pick both files of the bundle: bundle.json and its weights-….safetensors.');
      return;
    }
    void useBundle(async () =>
      loadBundle(
        {
          manifest: await manifest.text(),
          weights: new Uint8Array(await weights.arrayBuffer()),
          manifestName: manifest.name,
          weightsName: weights.name,
        },
        { models: MODELS },
      ),
    );
  });
  $<HTMLInputElement>('images').addEventListener('change', (e) => {
    const input = e.target as HTMLInputElement;
    void scoreInputs(Array.from(input.files ?? []).map(fromFile)).then(() => {
      input.value = '';
    });
  });
  const zone = $('drop-zone');
  zone.addEventListener('dragover', (e) => {
    e.preventDefault();
    zone.classList.add('over');
  });
  zone.addEventListener('dragleave', () => zone.classList.remove('over'));
  zone.addEventListener('drop', (e) => {
    e.preventDefault();
    zone.classList.remove('over');
    if (!bundle) {
      showError('Open a bundle first.');
      return;
    }
    void scoreInputs(Array.from(e.dataTransfer?.files ?? []).map(fromFile));
  });
  for (const th of $('table').querySelectorAll<HTMLElement>('th[data-key]')) {
    th.addEventListener('click', () => {
      const key = th.dataset.key as SortKey;
      sort = { key, descending: sort.key === key ? !sort.descending : key !== 'name' };
      renderTable();
    });
  }
  $('csv').addEventListener('click', () => {
    const rows: ResultRow[] = sortRows(
      scored.map((s) => s.row),
      sort.key,
      sort.descending,
    );
    const blob = new Blob([rowsToCsv(rows, bundle?.threshold ?? null)], { type: 'text/csv' });
    const a = document.createElement('a');
    a.href = URL.createObjectURL(blob);
    a.download = 'squid-scores.csv';
    a.click();
    setTimeout(() => URL.revokeObjectURL(a.href), 1000);
  });
}

async function start(): Promise<void> {
  wire();
  const forced = params.get('backend') as BrowserBackend | null;
  if (forced && !BACKEND_ORDER.includes(forced)) {
    showError(`Unknown backend "${forced}" in the URL: use one of ${BACKEND_ORDER.join(', ')}.`);
    return;
  }
  try {
    const { backend, skipped } = await chooseBackend(forced ?? undefined);
    $('backend').textContent =
      `backend: ${backend}${skipped.length ? ` (skipped ${skipped.join('; ')})` : ''}`;
    document.body.dataset.backend = tf.getBackend();
  } catch (err) {
    showError((err as Error).message);
    return;
  }
  const url = params.get('bundle');
  if (url) {
    $<HTMLInputElement>('bundle-url').value = url;
    await useBundle(() => fetchBundle(url, { models: MODELS }));
  }
}

void start();

import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomicSync } from '@squid-ad/backend';
import { type Series, seriesSvg } from '@squid-ad/metrics';
import { keptCheckpoints, readMetrics } from '@squid-ad/squid';
import { readReport } from './compare-runs.js';
import type { CliDeps } from './deps.js';
import { type EvaluateCommandOptions, evaluateCommand } from './evaluate-command.js';
import { DEFAULT_SCORE_NAME, type EvaluationReport, officialScoreOf } from './evaluation-report.js';
import { type CheckpointChoice, runCheckpoint } from './run-checkpoint.js';

/** Options of `squid-eval curve`: those of `evaluate` that apply to every kept checkpoint. */
export type CurveCommandOptions = Omit<EvaluateCommandOptions, 'checkpoint' | 'out'> & {
  /** output folder (default RUN_DIR/curve); each checkpoint's report goes to OUT/<checkpoint>/ */
  out?: string;
};

/** One point of the training curve: a kept checkpoint, its test AUCs and the epoch's train losses. */
export interface CurvePoint {
  checkpoint: string;
  epoch: number;
  iteration: number;
  /** SHA-256 of the checkpoint's tensors: a point is evaluated again only when it changes */
  sha256: string;
  /** mean train losses of the epoch that ended here (metrics.jsonl); null at iteration 0 */
  loss: Record<string, number | null> | null;
  /** AUC with its bootstrap CI of every score, overall and per anomaly type */
  scores: NonNullable<EvaluationReport['scores']>;
  counts: EvaluationReport['counts'];
}

/** What `curve.json` holds. */
export interface Curve {
  run: string;
  split: string;
  /** the run's model and the name of its own score (absent in curves of SQUID runs written before them) */
  model?: string;
  score?: string;
  points: CurvePoint[];
}

const SCORE_LABELS: Record<string, string> = {
  [DEFAULT_SCORE_NAME]: 'discriminator (official score)',
  'recon-l1': 'recon-l1',
  'recon-l1-worst-cell': 'recon-l1, worst cell',
};

/**
 * `squid-eval curve`: evaluates every checkpoint a run kept (`squid-train --keep-every`) on the
 * test split, each into OUT/<checkpoint>/ (a full `evaluate` report), and writes the training
 * curve: curve.json, curve.csv, curve.svg (AUC of each score against iterations, 95 % CIs) and
 * curve-types.svg (the AUC per anomaly type of the model's own score; SQUID: the discriminator's). Points already evaluated from the
 * same checkpoint bytes are reused, so running it again during training adds only the new ones.
 */
export async function curveCommand(
  opts: CurveCommandOptions,
  deps: CliDeps,
): Promise<{ curve: Curve; files: Record<'json' | 'csv' | 'svg' | 'types', string> }> {
  const names = keptCheckpoints(opts.run);
  if (names.length === 0)
    throw new Error(
      `${opts.run}: no kept checkpoints (checkpoints/epoch-NNNN.safetensors); train with squid-train --keep-every N`,
    );
  const out = opts.out ?? join(opts.run, 'curve');
  const jsonPath = join(out, 'curve.json');
  const previous = new Map<string, CurvePoint>();
  if (existsSync(jsonPath)) {
    const old = JSON.parse(readFileSync(jsonPath, 'utf8')) as Curve;
    if (old.split === opts.split) for (const p of old.points) previous.set(p.checkpoint, p);
  }
  const lossOf = new Map(
    readMetrics(opts.run).map((m) => [m.epoch as number, m.loss as Record<string, number | null>]),
  );
  const points: CurvePoint[] = [];
  let evaluated = 0;
  let source: EvaluationReport['source'] = {};
  for (const name of names) {
    const { sha256 } = runCheckpoint(opts.run, name as CheckpointChoice);
    const reportPath = join(out, name, 'report.json');
    const reuse = previous.get(name);
    let report: EvaluationReport;
    if (reuse?.sha256 === sha256 && existsSync(reportPath)) {
      report = readReport(reportPath, opts.run);
    } else {
      // evaluate's own lines (backend, AUC, report path) would repeat per checkpoint: its backend
      // line once, then one line per checkpoint
      await evaluateCommand(
        { ...opts, checkpoint: name as CheckpointChoice, out: join(out, name) },
        { ...deps, stdout: () => {}, stderr: evaluated++ === 0 ? deps.stderr : () => {} },
      );
      report = readReport(reportPath, opts.run);
    }
    if (!report.scores) throw new Error(`${reportPath}: no per-score AUCs (written by an old squid-eval?)`);
    source = report.source;
    const epoch = Number(name.slice('epoch-'.length));
    const iteration = Number(report.source.iteration ?? Number.NaN);
    const point: CurvePoint = {
      checkpoint: name,
      epoch,
      iteration,
      sha256,
      loss: lossOf.get(epoch) ?? null,
      scores: report.scores,
      counts: report.counts,
    };
    points.push(point);
    const pct = (v: number) => (100 * v).toFixed(1);
    deps.stdout(
      `${name} (iteration ${iteration}): ${Object.entries(report.scores)
        .map(([s, a]) => `${s} ${pct(a.auc)} [${pct(a.ci.lower)}, ${pct(a.ci.upper)}]`)
        .join(' · ')}${reuse?.sha256 === sha256 ? ' (already evaluated)' : ''}`,
    );
  }
  const official = officialScoreOf({ source });
  const curve: Curve = {
    run: opts.run,
    split: opts.split,
    ...(typeof source.model === 'string' ? { model: source.model, score: official } : {}),
    points,
  };
  const files = {
    json: jsonPath,
    csv: join(out, 'curve.csv'),
    svg: join(out, 'curve.svg'),
    types: join(out, 'curve-types.svg'),
  };
  writeFileAtomicSync(files.json, `${JSON.stringify(curve, null, 2)}\n`);
  writeFileAtomicSync(files.csv, curveCsv(points));
  const { normal, anomalous } = points[0].counts;
  const title = `${opts.split} AUC over training (${normal} normal + ${anomalous} anomalous, 95 % CI)`;
  const series = (
    pick: (p: CurvePoint) => { auc: number; ci: { lower: number; upper: number } | null } | undefined,
  ) =>
    points.flatMap((p) => {
      const a = pick(p);
      return a
        ? [{ x: p.iteration, y: a.auc, ...(a.ci ? { lower: a.ci.lower, upper: a.ci.upper } : {}) }]
        : [];
    });
  const scoreNames = Object.keys(points[0].scores);
  writeFileAtomicSync(
    files.svg,
    seriesSvg(
      scoreNames.map(
        (s): Series => ({
          name: SCORE_LABELS[s] ?? (s === official ? `${s} (the model's score)` : s),
          points: series((p) => p.scores[s]),
        }),
      ),
      { xLabel: 'training iterations', yLabel: 'AUC', reference: 0.5, title },
    ),
  );
  const types = points[0].scores[official]?.perType.map((t) => t.type) ?? [];
  writeFileAtomicSync(
    files.types,
    seriesSvg(
      types.map(
        (type): Series => ({
          name: type,
          points: series((p) => p.scores[official]?.perType.find((t) => t.type === type)),
        }),
      ),
      {
        xLabel: 'training iterations',
        yLabel: 'AUC',
        reference: 0.5,
        title: `${official} AUC per anomaly type (each type against all normals)`,
      },
    ),
  );
  deps.stdout(`curve: ${files.json} (${points.length} points), ${files.svg}, ${files.types}`);
  return { curve, files };
}

/** One row per point: iteration, losses, then AUC and CI of each score and the AUC of each type. */
function curveCsv(points: readonly CurvePoint[]): string {
  const lossKeys = [...new Set(points.flatMap((p) => Object.keys(p.loss ?? {})))];
  const scoreNames = Object.keys(points[0].scores);
  const typesOf = (s: string) => points[0].scores[s].perType.map((t) => t.type);
  const header = [
    'checkpoint',
    'epoch',
    'iteration',
    ...lossKeys.map((k) => `loss_${k}`),
    ...scoreNames.flatMap((s) => [
      `${s}_auc`,
      `${s}_lower`,
      `${s}_upper`,
      ...typesOf(s).map((t) => `${s}_auc_${t}`),
    ]),
  ];
  const cell = (v: number | null | undefined) => (v === null || v === undefined ? '' : String(v));
  const rows = points.map((p) =>
    [
      p.checkpoint,
      p.epoch,
      p.iteration,
      ...lossKeys.map((k) => cell(p.loss?.[k])),
      ...scoreNames.flatMap((s) => {
        const a = p.scores[s];
        return [
          a.auc,
          a.ci.lower,
          a.ci.upper,
          ...typesOf(s).map((t) => cell(a.perType.find((x) => x.type === t)?.auc)),
        ];
      }),
    ].join(','),
  );
  return `${[header.join(','), ...rows].join('\n')}\n`;
}

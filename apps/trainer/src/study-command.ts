import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type BackendChoice, describeBackend, initBackend } from '@squid-ad/backend';
import { type CheckpointMeta, RunFolderError, readCheckpointMeta, runPaths, trainRun } from '@squid-ad/squid';
import { MODELS } from './models.js';
import type { TrainCliIo } from './program.js';
import { barView, type ProgressView, plainView } from './progress.js';
import { planStudy, type StudyFlags, type StudyPlan, type StudyRun } from './study-plan.js';
import {
  type RunScores,
  type StudyFiles,
  type StudyResult,
  type StudyRow,
  studyResult,
  studyRow,
  writeStudy,
} from './study-report.js';

/** Where a run of the study stands on disk. */
type RunState =
  | { state: 'new' }
  | { state: 'partial'; epoch: number; stepInEpoch: number }
  | { state: 'finished'; iteration: number };

/** A run folder's state, from its `last` checkpoint (absent: nothing trained yet). */
export function runState(run: StudyRun, epochs: number): RunState {
  const last = runPaths(run.out).checkpoint('last');
  if (!existsSync(last)) return { state: 'new' };
  const m = readCheckpointMeta<CheckpointMeta>(last);
  if (m.epoch >= epochs && m.stepInEpoch === 0) return { state: 'finished', iteration: m.iteration };
  return { state: 'partial', epoch: m.epoch, stepInEpoch: m.stepInEpoch };
}

/** How far a run without a row has got, in words. */
function progressOf(run: StudyRun, epochs: number): string {
  let s: RunState;
  try {
    s = runState(run, epochs);
  } catch (err) {
    return `its checkpoint cannot be read: ${(err as Error).message}`;
  }
  if (s.state === 'new') return 'not trained yet';
  if (s.state === 'finished') return 'trained, not evaluated yet';
  return `trained ${s.epoch} of ${epochs} epochs${s.stepInEpoch > 0 ? ` + ${s.stepInEpoch} iterations` : ''}; run the study again to continue`;
}

/** The generated test split's size (DigitAnatomy and tiny), or undefined for file data sets. */
function generatedTestSize(
  plan: StudyPlan,
  flags: StudyFlags,
): { normal: number; abnormal: number } | undefined {
  if (plan.preset !== 'digitanatomy' && plan.preset !== 'tiny') return undefined;
  return flags.testSize ?? { normal: 200, abnormal: 200 };
}

/**
 * Evaluates a finished run on the preset's test split with `squid-eval evaluate`'s programmatic
 * API, into `RUN/eval/`; a report there of the same checkpoint, iteration and test size is reused.
 */
async function evaluateRun(
  run: StudyRun,
  plan: StudyPlan,
  flags: StudyFlags,
  say: (line: string) => void,
): Promise<StudyRow> {
  const ev = await import('@squid-ad/evaluator');
  const paths = runPaths(run.out);
  const checkpoint = flags.checkpoint === 'best' && existsSync(paths.checkpoint('best')) ? 'best' : 'last';
  const meta = readCheckpointMeta<CheckpointMeta>(paths.checkpoint(checkpoint));
  const testSize = generatedTestSize(plan, flags);
  if (existsSync(ev.reportPathOf(run.out))) {
    try {
      const old = ev.readRunReport(run.out);
      const src = old.source as Record<string, unknown>;
      if (
        src.checkpoint === checkpoint &&
        src.iteration === meta.iteration &&
        src.split === 'test' &&
        (!testSize || (old.counts.normal === testSize.normal && old.counts.anomalous === testSize.abnormal))
      ) {
        say(`${run.name}: evaluated already (${ev.reportPathOf(run.out)})`);
        return studyRow(run, old);
      }
    } catch {
      // An unreadable or foreign report is written anew.
    }
  }
  say(`${run.name}: evaluating the ${checkpoint} checkpoint on the test split`);
  const deps = ev.realDeps({
    stdout: (l) => say(`${run.name}: ${l}`),
    stderr: (l) => say(`${run.name}: ${l}`),
  });
  await ev.evaluateCommand(
    {
      run: run.out,
      ...(flags.data ? { data: flags.data } : {}),
      split: 'test',
      ...(testSize ? { testSize } : {}),
      checkpoint,
      thresholdFrom: 'val',
      thresholdMethod: 'max-accuracy',
      batchSize: 16,
      resamples: 1000,
      seed: 0,
      gridCount: 4,
      out: join(run.out, 'eval'),
    },
    deps,
  );
  return studyRow(run, ev.readRunReport(run.out));
}

/** Trains one run here: new, or resumed from its last checkpoint. */
async function trainHere(
  run: StudyRun,
  state: RunState,
  shouldStop: () => boolean,
  say: (line: string) => void,
  view?: ProgressView,
): Promise<'completed' | 'interrupted' | string> {
  say(
    `${run.name}: ${state.state === 'partial' ? `resuming at epoch ${state.epoch + 1}, step ${state.stepInEpoch}` : 'training'} in ${run.out}`,
  );
  try {
    const result = await trainRun({
      runDir: run.out,
      config: run.config,
      models: MODELS,
      resume: state.state === 'partial',
      shouldStop,
      ...(view ? { onProgress: (p) => view.step(p) } : {}),
      log: (l) => say(`${run.name}: ${l}`),
    });
    if (result.status === 'non-finite') return result.message ?? 'non-finite loss';
    return result.status;
  } catch (err) {
    if (err instanceof RunFolderError) return err.message;
    throw err;
  } finally {
    view?.stop();
  }
}

/** Trains `runs` on the job queue and waits for them; returns the failures by run name. */
async function trainOnQueue(
  queue: string,
  plan: StudyPlan,
  runs: readonly StudyRun[],
  attempts: number,
  say: (line: string) => void,
): Promise<Map<string, string>> {
  const { redactUrl } = await import('@squid-ad/queue');
  const { postTrainJobs, waitForTrainJobs } = await import('./queue-commands.js');
  const jobs = runs.map((r) => ({ name: r.name, out: r.out, config: r.config }));
  const posted = await postTrainJobs(queue, plan.outRoot, jobs, attempts, say);
  const failures = new Map<string, string>();
  try {
    const url = redactUrl(queue);
    say(
      `${posted.existed ? 'already queued' : 'queued'}: ${jobs.length} runs (${jobs.map((j) => j.name).join(', ')}) on ${url} (queue ${posted.name}); start workers with: squid-train worker --queue ${url}`,
    );
    for (const o of await waitForTrainJobs(posted.board, say)) {
      if (o.state === 'completed' && o.value?.status === 'completed') continue;
      failures.set(
        o.id,
        o.state === 'missing'
          ? 'lost from Redis (restarted without persistence, or flushed); run the study again'
          : `failed on the queue after ${o.attempts} attempts: ${o.reason ?? o.value?.status ?? o.state}`,
      );
    }
  } finally {
    await posted.board.close();
  }
  return failures;
}

/**
 * The paper's Figure 6 for the study: the same test images (a normal one and one of each anomaly
 * type) reconstructed by the first seed's run of every variant, by `squid-eval figure` into
 * `OUT_ROOT/figure.png` (+ figure.json); kept when figure.json already shows those runs at the
 * same iterations. Returns the PNG's path, or undefined (with the reason said) when it fails.
 */
async function studyFigure(
  plan: StudyPlan,
  flags: StudyFlags,
  rows: readonly StudyRow[],
  say: (line: string) => void,
): Promise<string | undefined> {
  const firsts = plan.variants.flatMap((v) => rows.find((r) => r.variant === v) ?? []);
  if (firsts.length === 0) return undefined;
  const png = join(plan.outRoot, 'figure.png');
  const json = join(plan.outRoot, 'figure.json');
  if (existsSync(png) && existsSync(json)) {
    try {
      const old = JSON.parse(readFileSync(json, 'utf8')) as {
        runs?: Array<{ run: string; iteration: number | null; checkpoint: string }>;
      };
      const same =
        old.runs?.length === firsts.length &&
        firsts.every(
          (r, i) =>
            old.runs?.[i].run === r.run &&
            old.runs?.[i].iteration === r.iterations &&
            old.runs?.[i].checkpoint === r.checkpoint,
        );
      if (same) return png;
    } catch {
      // An unreadable figure.json: the figure is drawn again.
    }
  }
  const ev = await import('@squid-ad/evaluator');
  const testSize = generatedTestSize(plan, flags);
  const lines: string[] = [];
  const deps = ev.realDeps({ stdout: () => {}, stderr: (l) => lines.push(l) });
  say(`figure: ${firsts.map((r) => `${r.variant}-seed${r.seed}`).join(', ')} → ${png}`);
  try {
    const code = await ev.runCli(
      [
        'figure',
        ...firsts.flatMap((r) => ['--run', r.run]),
        ...['--checkpoint', firsts[0].checkpoint],
        ...(testSize ? ['--test-size', `${testSize.normal}+${testSize.abnormal}`] : []),
        ...(flags.data ? ['--data', flags.data] : []),
        ...['--out', png],
      ],
      deps,
    );
    if (code === 0 && existsSync(png)) return png;
    say(
      `figure: squid-eval figure failed (exit ${code}): ${lines.at(-1) ?? 'no message'}; the study has no figure`,
    );
  } catch (err) {
    say(`figure: squid-eval figure failed: ${(err as Error).message}; the study has no figure`);
  }
  return undefined;
}

/** The test labels and scores a run's evaluation wrote (`eval/scores.csv`), for the ROC plot. */
async function runScores(row: StudyRow): Promise<RunScores> {
  const { parseScoresCsv } = await import('./study-report.js');
  const file = join(row.run, 'eval', 'scores.csv');
  return { variant: row.variant, ...parseScoresCsv(readFileSync(file, 'utf8'), file) };
}

/**
 * `squid-train study KIND`: plans the runs (variant × seed, one iteration budget), trains what
 * is missing (here one after another, resuming interrupted runs; or on the job queue with
 * `--queue`), evaluates each finished run on the test split and writes study.json, study.md and
 * study.html into the out-root. Exit 0; 2 when some run has no row; 1 on an error.
 */
export async function studyCommand(flags: StudyFlags, io: TrainCliIo): Promise<number> {
  const plan = planStudy(flags);
  // A run's progress: a bar on a terminal (lines pass through it, so none lands inside the bar),
  // a line every 30 s in a log; none under --json, whose stdout carries the events.
  const bar = !flags.json && io.tty ? barView(io.tty) : undefined;
  const say = (line: string) =>
    bar ? bar.line(`squid-train study: ${line}`) : io.stderr(`squid-train study: ${line}`);
  const progressView = (prefix: string): ProgressView | undefined =>
    flags.json ? undefined : (bar ?? plainView((l) => say(`${prefix}${l}`)));
  say(
    `${plan.kind} on ${plan.preset}: ${plan.variants.length} variants (${plan.variants.join(', ')}) × seeds ${plan.seeds.join(', ')} = ${plan.runs.length} runs of ${plan.iterations} iterations (${plan.epochs} epochs × ${plan.iterationsPerEpoch}, batch ${plan.batchSize}) into ${plan.outRoot}`,
  );
  // Redis first: an unreachable queue is one line, before TensorFlow.js starts.
  if (flags.queue) (await (await import('@squid-ad/queue')).connectRedis(flags.queue)).disconnect();
  const report = await initBackend({ backend: flags.backend as BackendChoice, precision: flags.precision });
  say(describeBackend(report));
  let stopRequested: string | undefined;
  const off = io.onSignal?.((signal) => {
    if (stopRequested) return;
    stopRequested = signal;
    say(`${signal}: finishing the current iteration, then writing a checkpoint…`);
  });
  const rows: StudyRow[] = [];
  const failures = new Map<string, string>();
  const write = async (figure?: string): Promise<{ result: StudyResult; files: StudyFiles }> => {
    const missing = plan.runs
      .filter((r) => !rows.some((x) => x.run === r.out))
      .map((r) => ({ run: r.name, reason: failures.get(r.name) ?? progressOf(r, plan.epochs) }));
    const result = studyResult(plan, rows, missing, flags.checkpoint);
    const scores = await Promise.all(result.rows.map(runScores));
    return { result, files: writeStudy(plan.outRoot, result, scores, figure) };
  };
  const emit = (event: Record<string, unknown>) => {
    if (flags.json) io.stdout(JSON.stringify(event));
  };
  try {
    if (flags.queue) {
      // Every run of the study is posted, the finished ones too (a worker finds them finished and
      // trains nothing): the queue is named after its jobs, so a study started again waits on the
      // same queue instead of posting the runs still in training a second time.
      const todo = plan.runs.filter((r) => runState(r, plan.epochs).state !== 'finished');
      if (todo.length > 0)
        for (const [name, reason] of await trainOnQueue(flags.queue, plan, plan.runs, flags.attempts, say))
          failures.set(name, reason);
    }
    for (const [i, run] of plan.runs.entries()) {
      const at = `[${i + 1}/${plan.runs.length}]`;
      if (failures.has(run.name)) {
        say(`${at} ${run.name}: ${failures.get(run.name)}`);
        emit({ type: 'run', name: run.name, state: 'failed', reason: failures.get(run.name) });
        continue;
      }
      const state = runState(run, plan.epochs);
      if (state.state !== 'finished') {
        if (flags.queue) {
          failures.set(run.name, 'not finished after the queue emptied');
          continue;
        }
        const outcome = await trainHere(
          run,
          state,
          () => stopRequested !== undefined,
          (l) => say(`${at} ${l}`),
          progressView(`${at} ${run.name}: `),
        );
        if (outcome === 'interrupted') {
          const { files } = await write();
          say(
            `stopped (${stopRequested}); run the same command again to continue; partial tables in ${files.md}`,
          );
          emit({ type: 'stopped', files });
          return 0;
        }
        if (outcome !== 'completed') {
          failures.set(run.name, outcome);
          say(`${at} ${run.name}: ${outcome}`);
          emit({ type: 'run', name: run.name, state: 'failed', reason: outcome });
          continue;
        }
        emit({ type: 'run', name: run.name, state: 'trained' });
      } else {
        say(`${at} ${run.name}: trained already (${state.iteration} iterations)`);
      }
      const row = await evaluateRun(run, plan, flags, (l) => say(`${at} ${l}`));
      rows.push(row);
      emit({
        type: 'run',
        name: run.name,
        state: 'evaluated',
        auc: row.auc,
        accuracy: row.accuracy,
        f1: row.f1,
      });
      // The tables grow with every run: a study stopped half-way shows what it has.
      await write();
    }
    const figure = await studyFigure(plan, flags, rows, say);
    const { result, files } = await write(figure);
    for (const s of result.summary)
      say(
        `${s.variant}: AUC ${(s.auc.mean * 100).toFixed(1)} ± ${(s.auc.std * 100).toFixed(1)} over ${s.seeds.length} seeds`,
      );
    say(`wrote ${files.json}, ${files.md}, ${files.html}`);
    emit({ type: 'study', files, rows: result.rows.length, missing: result.missing });
    return result.missing.length > 0 ? 2 : 0;
  } finally {
    off?.();
  }
}

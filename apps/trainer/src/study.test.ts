// `squid-train study` from the built CLI, in a folder outside the repository: a tiny models study
// (ae and squid, seeds 0 and 1) killed -9 mid-study and started again finishes without training or
// evaluating the finished runs again; the same study on a real Redis with 2 workers gives the
// same rows.
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { builtCli } from '@squid-ad/test-utils/built-cli';
import { type RedisServer, redisUnavailable, startRedisServer } from '@squid-ad/test-utils/redis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StudyResult } from './study-report.js';

const trainCli = builtCli('trainer');
const env = { ...process.env, SQUID_THREADS: '1' };
const root = mkdtempSync(join(tmpdir(), 'squid-study-'));
const skipRedis = redisUnavailable();
let redis: RedisServer | undefined;

beforeAll(async () => {
  if (!skipRedis) redis = await startRedisServer();
});
afterAll(async () => {
  await redis?.stop();
  rmSync(root, { recursive: true, force: true });
});

type Cli = ChildProcess & {
  done: Promise<number | null>;
  stderr(): string;
  onStderr(f: (t: string) => void): void;
};

/** The built squid-train, started in `root` (outside the repository). */
function start(args: string[]): Cli {
  const child = spawn(process.execPath, [trainCli, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  const listeners: Array<(t: string) => void> = [];
  child.stdout?.resume();
  child.stderr?.on('data', (d) => {
    err += d;
    for (const f of listeners) f(err);
  });
  const done = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  return Object.assign(child, {
    done,
    stderr: () => err,
    onStderr: (f: (t: string) => void) => void listeners.push(f),
  });
}

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const stamp = (file: string) => ({ sha: sha(file), mtime: statSync(file).mtimeMs });
const readStudy = (dir: string) => JSON.parse(readFileSync(join(dir, 'study.json'), 'utf8')) as StudyResult;
/** What must agree between two studies of the same plan. */
const numbers = (s: StudyResult) =>
  s.rows.map((r) => ({
    run: `${r.variant}-seed${r.seed}`,
    iterations: r.iterations,
    auc: r.auc,
    accuracy: r.accuracy,
    f1: r.f1,
    perType: r.perType,
    scores: r.scores,
  }));

const config = join(root, 'small.json');
writeFileSync(
  config,
  JSON.stringify({
    run: { normImages: 2, sampleEvery: 1000, data: { trainLength: 8, valNormal: 4, valAbnormal: 4 } },
  }),
);
const studyArgs = (outRoot: string) => [
  ...['study', 'models', '--preset', 'tiny', '--seeds', '0,1', '--iterations', '4'],
  ...['--iterations-per-epoch', '2', '--models', 'ae,squid', '--config', config, '--test-size', '20+20'],
  ...['--backend', 'wasm', '--out-root', outRoot],
];

describe('squid-train study (built CLI)', () => {
  const local = join(root, 'local');

  it('killed -9 mid-study and started again: finishes without retraining finished runs; writes study.json/md/html', async () => {
    const a = start(studyArgs(local));
    // Kill it once the second run (squid-seed1) has checkpointed its first of two epochs: the
    // first run (squid-seed0) is trained and evaluated by then.
    await new Promise<void>((resolve) =>
      a.onStderr((text) => {
        if (/\[2\/4\] squid-seed1: epoch 1\/2:/.test(text) && a.exitCode === null && a.signalCode === null) {
          a.kill('SIGKILL');
          resolve();
        }
      }),
    );
    await a.done;
    expect(a.signalCode).toBe('SIGKILL');
    const seed0 = join(local, 'squid-seed0');
    const before = {
      last: stamp(join(seed0, 'checkpoints', 'last.safetensors')),
      report: stamp(join(seed0, 'eval', 'report.json')),
    };
    expect(existsSync(join(local, 'squid-seed1', 'checkpoints', 'last.safetensors'))).toBe(true);
    expect(existsSync(join(local, 'ae-seed0'))).toBe(false);

    const b = start(studyArgs(local));
    expect(await b.done, b.stderr()).toBe(0);
    expect(b.stderr()).toMatch(/squid-seed0: trained already \(4 iterations\)/);
    expect(b.stderr()).toMatch(/squid-seed0: evaluated already/);
    expect(b.stderr()).toMatch(/squid-seed1: resuming at epoch 2, step 0/);
    // Progress in a log (not a terminal): a line per run at least at each epoch's last step.
    expect(b.stderr()).toMatch(/\[2\/4\] squid-seed1: epoch 2\/2 step 2\/2 .* img\/s ETA /);
    expect(b.stderr()).not.toMatch(/squid-seed0: training/);
    // The finished run's files are the same files, untouched.
    expect(stamp(join(seed0, 'checkpoints', 'last.safetensors'))).toEqual(before.last);
    expect(stamp(join(seed0, 'eval', 'report.json'))).toEqual(before.report);

    const study = readStudy(local);
    expect(study).toMatchObject({
      kind: 'models',
      preset: 'tiny',
      iterations: 4,
      epochs: 2,
      iterationsPerEpoch: 2,
    });
    expect(study.missing).toEqual([]);
    expect(study.rows.map((r) => `${r.variant}-seed${r.seed}`)).toEqual([
      'squid-seed0',
      'squid-seed1',
      'ae-seed0',
      'ae-seed1',
    ]);
    for (const r of study.rows) {
      expect(r.iterations).toBe(4);
      expect(r.counts).toEqual({ normal: 20, anomalous: 20 });
      expect(r.auc).toBeGreaterThanOrEqual(0);
      expect(Object.keys(r.perType).sort()).toEqual(['flip', 'missing', 'swap', 'zero']);
    }
    expect(study.rows.map((r) => r.score)).toEqual([
      'discriminator',
      'discriminator',
      'recon-mse',
      'recon-mse',
    ]);
    // The summary is the mean ± std (ddof 1) of the rows.
    const [s0, s1] = study.rows;
    const squid = study.summary.find((s) => s.variant === 'squid')!;
    expect(squid.auc.mean).toBeCloseTo((s0.auc + s1.auc) / 2, 12);
    expect(squid.auc.std).toBeCloseTo(Math.abs(s0.auc - s1.auc) / Math.SQRT2, 12);
    expect(study.summary.map((s) => s.variant)).toEqual(['squid', 'ae']);

    const md = readFileSync(join(local, 'study.md'), 'utf8');
    expect(md).toContain('| variant | score | seeds | AUC | ΔAUC vs squid | accuracy | F1 | AUC flip |');
    expect(md).toContain(
      `| squid | discriminator | 2 | ${(squid.auc.mean * 100).toFixed(1)} ± ${(squid.auc.std * 100).toFixed(1)} |`,
    );
    const html = readFileSync(join(local, 'study.html'), 'utf8');
    expect(html).toContain('id="study-roc"');
    // One ROC curve per variant, each with its seeds' band, and the chance diagonal.
    expect(html.match(/class="series"/g)).toHaveLength(3);
    expect(html.match(/class="band"/g)).toHaveLength(2);
    // The Figure-6 grid of squid-eval figure: the first seed's run of each variant, in the page.
    expect(study.figure).toBe('figure.png');
    const figure = JSON.parse(readFileSync(join(local, 'figure.json'), 'utf8'));
    expect(figure.runs.map((r: { run: string; iteration: number }) => [r.run, r.iteration])).toEqual([
      [join(local, 'squid-seed0'), 4],
      [join(local, 'ae-seed0'), 4],
    ]);
    expect(html).toMatch(/<img id="study-figure" [^>]*src="data:image\/png;base64,iVBOR/);
  }, 600_000);

  it('ablation: the official SQUID and one run per switch, each trained with its switch', async () => {
    const out = join(root, 'ablation');
    const args = [
      ...['study', 'ablation', '--preset', 'tiny', '--seeds', '0', '--iterations', '2', '--config', config],
      ...['--test-size', '10+10', '--backend', 'wasm', '--out-root', out, '--json'],
    ];
    const c = start(args);
    expect(await c.done, c.stderr()).toBe(0);
    const study = readStudy(out);
    const variants = [
      'official',
      'memory-matrix',
      'shared-memory',
      'softmax',
      'no-inpainting',
      'shortcut-residual',
      'shortcut-off',
      'no-teacher',
    ];
    expect(study.rows.map((r) => r.variant)).toEqual(variants);
    const ablations = variants.map(
      (v) => JSON.parse(readFileSync(join(out, `${v}-seed0`, 'config.json'), 'utf8')).squid.ablation,
    );
    const official = ablations[0];
    expect(official).toMatchObject({ memory: 'queue', spaceAware: true, teacher: true, shortcut: 'masked' });
    expect(ablations.slice(1)).toEqual([
      { ...official, memory: 'matrix' },
      { ...official, spaceAware: false },
      { ...official, addressing: 'softmax' },
      { ...official, inpainting: false },
      { ...official, shortcut: 'residual' },
      { ...official, shortcut: 'off' },
      { ...official, teacher: false },
    ]);
    expect(readFileSync(join(out, 'study.md'), 'utf8')).toContain('| no-teacher | discriminator | 1 |');
    expect(JSON.parse(readFileSync(join(out, 'figure.json'), 'utf8')).runs).toHaveLength(8);
  }, 600_000);

  it.skipIf(skipRedis)(
    `--queue on a real Redis with 2 workers gives the same rows, after a restart of the study too${skipRedis ? ` (skipped: ${skipRedis})` : ''}`,
    async () => {
      const queued = join(root, 'queued');
      const first = start([...studyArgs(queued), '--queue', redis!.url]);
      await new Promise<void>((resolve) => first.onStderr((t) => t.includes('queued: 4 runs') && resolve()));
      // The study killed while it waits and started again waits on the same queue: nothing posted twice.
      first.kill('SIGKILL');
      await first.done;
      const s = start([...studyArgs(queued), '--queue', redis!.url]);
      await new Promise<void>((resolve) =>
        s.onStderr((t) => t.includes('already queued: 4 runs') && resolve()),
      );
      const worker = [
        'worker',
        '--queue',
        redis!.url,
        '--backend',
        'wasm',
        '--poll-seconds',
        '0.3',
        '--exit-when-idle',
      ];
      const w1 = start(worker);
      const w2 = start(worker);
      expect(await s.done, s.stderr()).toBe(0);
      expect(await w1.done, w1.stderr()).toBe(0);
      expect(await w2.done, w2.stderr()).toBe(0);
      // Both workers trained (4 runs between them), and the study trained nothing itself.
      const trained = (w: Cli) => Number(/stopped after (\d+) runs/.exec(w.stderr())?.[1]);
      expect(trained(w1) + trained(w2)).toBe(4);
      expect(s.stderr()).not.toMatch(/: training in /);
      expect(numbers(readStudy(queued))).toEqual(numbers(readStudy(join(root, 'local'))));
    },
    600_000,
  );
});

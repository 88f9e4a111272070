import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readCheckpoint, readMetrics, runPaths } from '@squid-ad/squid';
import { afterAll, describe, expect, it } from 'vitest';
import { runTrainCli, type TrainCliIo } from './program.js';
import { resolveTrainConfig, trainFlagsSchema } from './resolve-config.js';

const root = mkdtempSync(join(tmpdir(), 'squid-train-cli-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

function io(extra: Partial<TrainCliIo> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  return {
    out,
    err,
    io: { stdout: (l: string) => out.push(l), stderr: (l: string) => err.push(l), ...extra },
  };
}

const flags = (o: object) => trainFlagsSchema.parse(o);

describe('resolveTrainConfig', () => {
  it('layers preset, --config file and flags', () => {
    const file = join(root, 'cfg.json');
    writeFileSync(
      file,
      JSON.stringify({ squid: { loss: { recon: 3 }, train: { epochs: 7 } }, run: { normImages: 20 } }),
    );
    const { config, out } = resolveTrainConfig(
      flags({
        preset: 'digitanatomy',
        config: file,
        epochs: 9,
        batchSize: 4,
        stepsPerEpoch: 5,
        seed: 2,
        validateEvery: 3,
      }),
    );
    expect(out).toBe('runs/digitanatomy');
    expect(config.squid!.loss.recon).toBe(3);
    expect(config.squid!.loss.teacher).toBe(0.01);
    expect(config.squid!.train).toMatchObject({ epochs: 9, batchSize: 4, iterationsPerEpoch: 5, seed: 2 });
    expect(config.run).toMatchObject({ normImages: 20, validateEvery: 3, scoreNorm: 'per-image' });
    expect(config.run.data.skipBad).toBe(false);
    expect(resolveTrainConfig(flags({ preset: 'tiny', skipBad: true })).config.run.data.skipBad).toBe(true);
  });

  it('explains what is wrong', () => {
    expect(() => resolveTrainConfig(flags({}))).toThrow(/choose a --preset/);
    expect(() => resolveTrainConfig(flags({ resume: true }))).toThrow(/--resume needs --out/);
    const bad = join(root, 'bad.json');
    writeFileSync(bad, '{"squid": {"model": {"numPatch": 5}}}');
    expect(() => resolveTrainConfig(flags({ preset: 'digitanatomy', config: bad }))).toThrow(
      /--config .*bad\.json: invalid run config[\s\S]*imageSize 96 is not divisible by numPatch 5/,
    );
    expect(() => resolveTrainConfig(flags({ resume: true, out: join(root, 'missing-run') }))).toThrow(
      /cannot resume: .*missing-run is not a run folder \(no config\.json\); check --out/,
    );
    // A misspelt key is an error, not a silent default (batch 4 instead of 2).
    const typo = join(root, 'typo.json');
    writeFileSync(typo, '{"squid": {"train": {"batchsize": 2}}}');
    expect(() => resolveTrainConfig(flags({ preset: 'tiny', config: typo }))).toThrow(
      /--config .*typo\.json: invalid run config\n {2}squid\.train\.batchsize: unknown key \(did you mean batchSize\?\)/,
    );
  });
});

describe('squid-train', () => {
  it('--help explains the run folder and exits 0; bad flags exit 1', async () => {
    const h = io();
    expect(await runTrainCli(['--help'], h.io)).toBe(0);
    const help = h.out.join('\n');
    for (const flag of [
      '--preset',
      '--data',
      '--out',
      '--epochs',
      '--batch-size',
      '--steps-per-epoch',
      '--backend',
      '--seed',
      '--config',
      '--resume',
      '--contamination',
      '--skip-bad',
      '--json',
    ]) {
      expect(help).toContain(flag);
    }
    expect(help).toMatch(/metrics\.jsonl/);
    const b = io();
    expect(await runTrainCli(['--preset', 'mnist'], b.io)).toBe(1);
    expect(b.err.join('\n')).toMatch(/Allowed choices are digitanatomy, zhanglab, chexpert/);
    const c = io();
    expect(await runTrainCli(['--preset', 'tiny', '--epochs', 'two'], c.io)).toBe(1);
    expect(c.err.join('\n')).toMatch(/--epochs must be an integer/);
    // Range errors name the flag as typed.
    const d = io();
    expect(await runTrainCli(['--preset', 'tiny', '--batch-size', '0'], d.io)).toBe(1);
    expect(d.err.join('\n')).toMatch(/^squid-train: --batch-size: /m);
    expect(d.err.join('\n')).not.toMatch(/batchSize/);
  });

  it('trains with --json, then a signal writes a checkpoint and exits 0, and --resume continues', async () => {
    const out = join(root, 'run');
    const args = [
      '--preset',
      'tiny',
      '--out',
      out,
      '--backend',
      'wasm',
      '--batch-size',
      '2',
      '--steps-per-epoch',
      '1',
      '--sample-every',
      '1',
    ];
    const cfg = join(root, 'small.json');
    writeFileSync(
      cfg,
      JSON.stringify({ run: { normImages: 2, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } } }),
    );
    const a = io();
    expect(await runTrainCli([...args, '--config', cfg, '--epochs', '1', '--json'], a.io)).toBe(0);
    const lines = a.out.map((l) => JSON.parse(l));
    expect(lines.map((l) => l.type)).toEqual(['backend', 'epoch', 'result']);
    expect(lines[0]).toMatchObject({
      backend: 'wasm',
      threads: 1,
      nativeKernels: { enabled: expect.any(Boolean) },
    });
    expect(a.err[0]).toMatch(/^backend wasm, 1 thread/);
    expect(lines[1]).toMatchObject({ epoch: 1, iteration: 1 });
    expect(lines[1].val.auc).toBeGreaterThanOrEqual(0);
    expect(lines[2]).toMatchObject({ status: 'completed', epoch: 1 });

    // A signal arriving before epoch 2's first iteration: checkpoint at that boundary, exit 0.
    const b = io({
      onSignal: (handler) => {
        handler('SIGTERM');
        return () => {};
      },
    });
    expect(await runTrainCli([...args, '--config', cfg, '--epochs', '3', '--resume'], b.io)).toBe(0);
    expect(b.out.join('\n')).toMatch(/SIGTERM: finishing[\s\S]*continue with: squid-train --out .* --resume/);
    const meta = readCheckpoint<{ epoch: number; iteration: number }>(runPaths(out).checkpoint('last')).meta;
    expect(meta.epoch).toBe(1);

    // Resuming with a changed recipe is refused (exit 1) …
    const c = io();
    expect(
      await runTrainCli([...args, '--config', cfg, '--epochs', '2', '--resume', '--seed', '5'], c.io),
    ).toBe(1);
    expect(c.err.join('\n')).toMatch(/config differs[\s\S]*squid\.train\.seed: 0 → 5/);
    // … the same recipe continues to the new total.
    // (in bfloat16 where the oneDNN kernels run it: the status line and train.log say so)
    const d = io();
    expect(
      await runTrainCli(
        ['--out', out, '--resume', '--epochs', '2', '--backend', 'wasm', '--precision', 'bfloat16', '--json'],
        d.io,
      ),
    ).toBe(0);
    expect(readMetrics(out).map((m) => m.epoch)).toEqual([1, 2]);
    const backend = JSON.parse(d.out[0]);
    const log = readFileSync(runPaths(out).log, 'utf8');
    if (backend.precision === 'bfloat16') {
      expect(d.err[0]).toMatch(/^backend wasm, 1 thread, oneDNN kernels on, bfloat16/);
      expect(log).toContain('note: checkpoint written on backend wasm, resuming on wasm (bfloat16)');
    } else {
      expect(backend).toMatchObject({ precision: 'float32', precisionNote: expect.any(String) });
      expect(log).not.toContain('resuming on wasm (bfloat16)');
    }
  });

  it('--max-minutes stops at the first iteration past the budget once an epoch is done, as a signal does', async () => {
    const out = join(root, 'budget');
    const cfg = join(root, 'budget.json');
    writeFileSync(
      cfg,
      JSON.stringify({ run: { normImages: 2, data: { trainLength: 8, valNormal: 2, valAbnormal: 2 } } }),
    );
    // 6 ms: spent long before epoch 1 ends, yet the run goes on to finish that epoch.
    const a = io();
    const args = ['--preset', 'tiny', '--out', out, '--backend', 'wasm', '--batch-size', '2'];
    const budget = ['--steps-per-epoch', '2', '--epochs', '5', '--config', cfg, '--max-minutes', '0.0001'];
    expect(await runTrainCli([...args, ...budget], a.io)).toBe(0);
    expect(a.out.join('\n')).toMatch(
      /epoch 1\/5: [\s\S]*0\.0001 min passed \(--max-minutes\): writing a checkpoint…[\s\S]*continue with: squid-train --out .* --resume/,
    );
    expect(readMetrics(out).map((m) => m.epoch)).toEqual([1]);
    const meta = readCheckpoint<{ epoch: number; stepInEpoch: number }>(
      runPaths(out).checkpoint('last'),
    ).meta;
    expect(meta).toMatchObject({ epoch: 1, stepInEpoch: 0 });
    const bad = io();
    expect(await runTrainCli([...args, '--max-minutes', '0'], bad.io)).toBe(1);
    expect(bad.err.join('\n')).toMatch(/^squid-train: --max-minutes: /m);
  });
});

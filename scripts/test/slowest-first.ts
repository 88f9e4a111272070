// Vitest file order: the slowest files first, so that the two workers end together.
//
// Vitest's own order runs the longest files first only when it has their durations from an
// earlier run on this machine (node_modules/.vite/vitest/…/results.json). A fresh clone, as in
// CI, has none, and vitest then runs the largest files first: the longest file of all (the npm
// tarballs, ~100 s) is one of the smallest, started last while the other worker sat idle. This
// list, measured on a full run (wall seconds per file, `.vitest-report.json`), makes the order
// the same everywhere. A file missing from it only runs later; refresh it when the times move.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

/**
 * Test files that take more than a few seconds, with their rough wall seconds (beforeAll
 * included) on an idle 2-core machine, from full and single-file runs. Only the order matters.
 */
export const slowFiles: Record<string, number> = {
  'scripts/test/npm-packages.test.ts': 125,
  'apps/evaluator/src/built-clis.test.ts': 65,
  'apps/trainer/src/disk-faults.test.ts': 60,
  'apps/trainer/src/fault-injection.test.ts': 55,
  'apps/trainer/src/study.test.ts': 110,
  'packages/squid/src/ablation.test.ts': 70,
  'apps/trainer/src/queue-sweep.test.ts': 33,
  'packages/squid/src/train/train-run.test.ts': 31,
  'apps/evaluator/src/queue-redis-restart.test.ts': 30,
  'apps/evaluator/src/queue-score.test.ts': 22,
  'apps/trainer/src/queue-faults.test.ts': 20,
  'packages/backend/src/wasm-threads.test.ts': 14,
  'packages/squid/src/train/train-parity.test.ts': 14,
  'apps/evaluator/src/view-command.test.ts': 18,
  'apps/evaluator/src/curve-command.test.ts': 10,
  'apps/evaluator/src/figure-command.test.ts': 20,
  'apps/evaluator/src/other-model.test.ts': 10,
  'packages/backend/src/wasm-slice.test.ts': 11,
  'scripts/test/browser-entries.test.ts': 10,
  'packages/squid/src/model.test.ts': 10,
  'packages/squid/src/score.test.ts': 13,
  'apps/trainer/src/program.test.ts': 10,
  'packages/datasets/src/cli.test.ts': 6,
  'packages/squid/src/train/training-data.test.ts': 8,
  'packages/baselines/src/f-anogan/plugin.test.ts': 40,
  'packages/baselines/src/f-anogan/critic-loss.test.ts': 14,
  'packages/baselines/src/f-anogan/stage-losses.test.ts': 10,
  'packages/baselines/src/memae/presets-wasm.test.ts': 12,
  'packages/baselines/src/memae/memae-squid.test.ts': 8,
  'packages/baselines/src/memae/memae.test.ts': 6,
  'packages/baselines/src/vae/backends.test.ts': 7,
  'packages/baselines/src/vae/plugin.test.ts': 6,
  'packages/baselines/src/ae/plugin.test.ts': 4,
  'packages/baselines/src/ganomaly/backends.test.ts': 7,
  'packages/baselines/src/ganomaly/plugin.test.ts': 5,
};

export class SlowestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const seconds = (f: TestSpecification) =>
      Object.entries(slowFiles).find(([path]) => f.moduleId.endsWith(`/${path}`))?.[1] ?? 0;
    // The rest keep vitest's order (cached durations, else size); sort is stable.
    return (await super.sort(files)).sort((a, b) => seconds(b) - seconds(a));
  }
}

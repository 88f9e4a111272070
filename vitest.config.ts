import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { SlowestFirst } from './scripts/test/slowest-first.js';

const pkg = (name: string) => fileURLToPath(new URL(`./packages/${name}/src/index.ts`, import.meta.url));

// Tests import workspace packages from source, so `pnpm test` needs no build step.
export default defineConfig({
  resolve: {
    alias: {
      '@squid-ad/backend': pkg('backend'),
      '@squid-ad/backend-onednn': pkg('backend-onednn'),
      '@squid-ad/datasets': pkg('datasets'),
      '@squid-ad/memory-queue': pkg('memory-queue'),
      '@squid-ad/inpainting': pkg('inpainting'),
      '@squid-ad/gan-core': pkg('gan-core'),
      '@squid-ad/metrics': pkg('metrics'),
      '@squid-ad/model-api': pkg('model-api'),
      '@squid-ad/baselines': pkg('baselines'),
      // Before the package itself: an alias matches its subpaths too.
      '@squid-ad/queue/signals': fileURLToPath(new URL('./packages/queue/src/signals.ts', import.meta.url)),
      '@squid-ad/queue': pkg('queue'),
      '@squid-ad/squid': pkg('squid'),
      // Before the package itself: an alias matches its subpaths too.
      '@squid-ad/test-utils/redis': fileURLToPath(
        new URL('./packages/test-utils/src/redis-server.ts', import.meta.url),
      ),
      '@squid-ad/test-utils/test-model': fileURLToPath(
        new URL('./packages/test-utils/src/test-model.ts', import.meta.url),
      ),
      '@squid-ad/test-utils/built-cli': fileURLToPath(
        new URL('./packages/test-utils/src/built-cli.ts', import.meta.url),
      ),
      '@squid-ad/test-utils': pkg('test-utils'),
    },
  },
  test: {
    // Tests compare float32 results bit for bit; the ones about bfloat16 ask for it by name
    // (squid-eval defaults to auto: bfloat16 on a CPU with native bf16).
    env: { SQUID_ONEDNN_PRECISION: 'float32' },
    include: ['packages/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'scripts/test/*.test.ts'],
    // The built dist of every package, for the tests that run what a user installs.
    globalSetup: ['scripts/test/build-packages.ts'],
    pool: 'forks',
    // Two cores: more workers only make tf-heavy files fight over them.
    maxWorkers: 2,
    // The slowest files first on every machine, fresh clones included (see slowest-first.ts).
    sequence: { sequencer: SlowestFirst },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});

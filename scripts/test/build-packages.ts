// Vitest global setup: builds every package's dist once, before any test file starts. Tests that
// run what a user runs (the built CLIs, the packed tarballs) need it, and building here instead of
// in each file keeps two turbo builds from rewriting dist/ while another test reads it.
// turbo rebuilds only what changed: ~0.1 s when nothing did, ~2 min on a fresh clone.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

export default function setup(): void {
  // biome-ignore lint/suspicious/noUndeclaredEnvVars: a switch for working on a single test file
  if (process.env.SQUID_TEST_SKIP_BUILD === '1') return;
  execFileSync('pnpm', ['exec', 'turbo', 'run', 'build', '--output-logs=errors-only'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

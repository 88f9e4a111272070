// The CLIs as built by the test run's global setup (scripts/test/build-packages.ts), for tests
// that start them in their own processes. A built CLI starts ~2.5 s sooner than its TypeScript
// source under tsx (which resolves and transforms every import on each start), and the
// fault-injection and queue tests start about twenty of them; it is also what a user
// runs. `node dist/cli.js` is one process, so a kill -9 still hits the CLI itself.
// With SQUID_TEST_SKIP_BUILD=1 no build runs: run `pnpm build` after changing a package's source.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const clis = {
  trainer: 'apps/trainer/dist/cli.js',
  evaluator: 'apps/evaluator/dist/cli.js',
};

/** The built `squid-train` or `squid-eval`, absolute: start it with `process.execPath`. */
export function builtCli(pkg: keyof typeof clis): string {
  const cli = root + clis[pkg];
  if (!existsSync(cli))
    throw new Error(`${cli} is missing: run \`pnpm build\` (or the tests without SQUID_TEST_SKIP_BUILD)`);
  return cli;
}

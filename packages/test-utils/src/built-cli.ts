// The CLIs as built by the test run's global setup (scripts/test/build-packages.ts), for tests
// that start them in their own processes. A built CLI starts ~2.5 s sooner than its TypeScript
// source under tsx (which resolves and transforms every import on each start), and the
// fault-injection and queue tests start about twenty of them; it is also what a user
// runs. `node dist/cli.js` is one process, so a kill -9 still hits the CLI itself.
// With SQUID_TEST_SKIP_BUILD=1 no build runs: run `pnpm build` after changing a package's source.
import { type ChildProcess, spawn } from 'node:child_process';
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

/** How a started CLI ended, with everything it wrote to stderr. */
export interface CliExit {
  code: number | null;
  signal: string | null;
  stderr: string;
}

/** A CLI process started by {@link startCli}. */
export type StartedCli = ChildProcess & {
  /** resolves when the process has exited and its output is all read */
  done: Promise<CliExit>;
  /** stderr so far */
  stderr(): string;
  /** calls `f` with all of stderr so far, each time more arrives */
  onStderr(f: (text: string) => void): void;
  /** stdout so far, parsed as JSON lines (`--json`) */
  events(): Record<string, unknown>[];
};

/**
 * Starts a built CLI ({@link builtCli}) in its own process from the repository root, with
 * stdout and stderr collected. One process, so a kill -9 hits the CLI itself.
 */
export function startCli(cli: string, args: string[], env: NodeJS.ProcessEnv = process.env): StartedCli {
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: root,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const listeners: Array<(text: string) => void> = [];
  child.stdout?.on('data', (d) => {
    stdout += d;
  });
  child.stderr?.on('data', (d) => {
    stderr += d;
    for (const f of listeners) f(stderr);
  });
  const done = new Promise<CliExit>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal, stderr })),
  );
  return Object.assign(child, {
    done,
    stderr: () => stderr,
    onStderr: (f: (text: string) => void) => void listeners.push(f),
    events: () =>
      stdout
        .split('\n')
        .filter((l) => l.trim() !== '')
        .map((l) => JSON.parse(l) as Record<string, unknown>),
  });
}

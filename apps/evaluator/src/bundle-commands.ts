import { type Command, InvalidArgumentError, Option } from 'commander';
import type { CliDeps } from './deps.js';
import { checkpointOption } from './run-checkpoint.js';

const port = (v: string) => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError('must be a port, 0–65535');
  return n;
};

/** `squid-eval export` and `squid-eval view`: inference bundles and the browser viewer. */
export function addBundleCommands(program: Command, deps: CliDeps, exit: { code: number }): void {
  program
    .command('export')
    .description(
      'write an inference bundle (bundle.json + weights): only what scoring needs, for squid-eval view, a browser or loadBundle',
    )
    .requiredOption('--run <dir>', 'run directory (from squid-train)')
    .requiredOption('--out <dir>', 'bundle directory (created; an earlier bundle there is replaced)')
    .addOption(checkpointOption())
    .addOption(
      new Option(
        '--precision <p>',
        'storage of the weights: float16 halves the bundle (scores then differ slightly)',
      )
        .choices(['float32', 'float16'])
        .default('float32'),
    )
    .option('--json', 'print a JSON summary instead of a line')
    .action(async (o) => {
      const { exportCommand } = await import('./export-command.js');
      exit.code = await exportCommand(o, deps);
    });

  program
    .command('view')
    .description(
      'serve the viewer page with a bundle (from export) on this machine: score images in the browser',
    )
    .requiredOption('--bundle <dir>', 'bundle directory (from squid-eval export)')
    .option('--host <host>', 'address to listen on (other machines can reach 0.0.0.0)', '127.0.0.1')
    .option('--port <n>', 'port (0: any free one)', port, 8123)
    .action(async (o) => {
      const { viewCommand } = await import('./view-command.js');
      exit.code = await viewCommand(o, deps);
    });
}

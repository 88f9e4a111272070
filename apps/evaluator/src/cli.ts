#!/usr/bin/env node
import { runCli } from './program.js';
import { realDeps } from './real-deps.js';

// A closed stdout (`squid-eval score DIR | head -1`) means the reader has what it wanted: stop
// quietly with exit 0 (evaluate's files are written before it prints), not with an EPIPE trace.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

process.exitCode = await runCli(process.argv.slice(2), realDeps());

#!/usr/bin/env node
import { runTrainCli } from './program.js';

// A closed stdout (`squid-train … | head -3`, a closed terminal) is not a reason to stop training:
// further output is dropped and the run goes on; train.log and metrics.jsonl keep the record.
let stdoutOpen = true;
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') stdoutOpen = false;
  else throw err;
});

process.exitCode = await runTrainCli(process.argv.slice(2), {
  stdout: (line) => {
    if (stdoutOpen) process.stdout.write(`${line}\n`);
  },
  stderr: (line) => process.stderr.write(`${line}\n`),
  tty: process.stderr.isTTY ? process.stderr : undefined,
  onSignal: (handler) => {
    let count = 0;
    const h = (signal: NodeJS.Signals) => {
      // A second Ctrl-C while the checkpoint is being written means: stop now.
      if (++count > 1) process.exit(1);
      handler(signal);
    };
    process.on('SIGINT', h);
    process.on('SIGTERM', h);
    return () => {
      process.off('SIGINT', h);
      process.off('SIGTERM', h);
    };
  },
});

#!/usr/bin/env node
// The signals entry alone: BullMQ stays out of start-up unless a queue command loads it.
import { onStopSignals } from '@squid-ad/queue/signals';
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
  // A second Ctrl-C while the checkpoint is being written means: stop now.
  onSignal: (handler) => onStopSignals(handler),
});

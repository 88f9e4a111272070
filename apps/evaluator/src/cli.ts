#!/usr/bin/env node
import { runCli } from './program.js';
import { realDeps } from './real-deps.js';

process.exitCode = await runCli(process.argv.slice(2), realDeps());

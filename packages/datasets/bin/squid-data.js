#!/usr/bin/env node
// The `squid-data` command. A file that exists before the build, so that pnpm can link the
// command into the workspace at install time (dist/ comes later, from `pnpm build`).
import { existsSync } from 'node:fs';

const cli = new URL('../dist/cli.js', import.meta.url);
if (!existsSync(cli)) {
  console.error('squid-data: @squid-ad/datasets is not built (no dist/cli.js); run `pnpm build` first');
  process.exit(1);
}
await import(cli.href);

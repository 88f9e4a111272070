#!/usr/bin/env node
// `pnpm bench [-- <filter>... [--flag value...]]`: runs every packages/*/bench/*.bench.ts and
// apps/*/bench/*.bench.ts (only those whose path contains one of the filters) with tsx, one after
// another, streaming their stdout (JSON lines) through unchanged. Progress and errors go to stderr.
// Filters come first; everything from the first `-` argument on goes to each bench file as is,
// so flags keep their values (`pnpm bench -- squid/bench/model --configs onednn×2`).
import { spawn } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2).filter((a) => a !== '--');
const firstFlag = args.findIndex((a) => a.startsWith('-'));
const filters = firstFlag === -1 ? args : args.slice(0, firstFlag);
const passThrough = firstFlag === -1 ? [] : args.slice(firstFlag);

function benchFiles() {
  const files = [];
  for (const top of ['packages', 'apps']) {
    const base = join(root, top);
    if (!existsSync(base)) continue;
    for (const pkg of readdirSync(base).sort()) {
      const dir = join(base, pkg, 'bench');
      if (!existsSync(dir)) continue;
      for (const f of readdirSync(dir).sort()) if (f.endsWith('.bench.ts')) files.push(join(dir, f));
    }
  }
  return files;
}

const selected = benchFiles().filter(
  (f) => filters.length === 0 || filters.some((s) => relative(root, f).includes(s)),
);
if (selected.length === 0) {
  console.error(`bench: no bench file matches ${filters.join(', ') || '(any)'}`);
  process.exit(1);
}

let failed = 0;
for (const file of selected) {
  const rel = relative(root, file);
  console.error(`bench: ${rel}`);
  const code = await new Promise((resolve) => {
    const child = spawn('pnpm', ['exec', 'tsx', file, ...passThrough], {
      cwd: join(file, '..', '..'),
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    child.on('close', (c) => resolve(c ?? 1));
    child.on('error', (err) => {
      console.error(`bench: cannot start tsx for ${rel}: ${err.message}`);
      resolve(1);
    });
  });
  if (code !== 0) {
    failed++;
    console.error(`bench: ${rel} exited with code ${code}`);
  }
}
process.exit(failed === 0 ? 0 : 1);

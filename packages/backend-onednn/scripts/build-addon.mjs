#!/usr/bin/env node
// Builds the optional oneDNN addon (build/Release/squid_onednn.node) with node-gyp. This is the
// package's `install` script, so it must never fail an install: every problem becomes one line
// on stderr and exit code 0, and squid keeps its TensorFlow.js kernels.
// Flags: --verbose shows the compiler output. Env: SQUID_ONEDNN_SKIP=1 skips the build.
import { spawnSync } from 'node:child_process';
import { existsSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
const verbose = process.argv.includes('--verbose');
const statusFile = join(pkgDir, 'build', 'status.json');

function finish(ok, message) {
  const line = `@squid-ad/backend-onednn: ${message}`;
  if (ok) console.log(line);
  else console.warn(`${line}; squid will use the TensorFlow.js kernels`);
  try {
    // The loader repeats this reason when the addon is missing, so initBackend can say why.
    const tmp = `${statusFile}.tmp`;
    spawnSync('mkdir', ['-p', join(pkgDir, 'build')]);
    writeFileSync(tmp, `${JSON.stringify({ ok, message, at: new Date().toISOString() })}\n`);
    renameSync(tmp, statusFile);
  } catch {
    // A read-only install dir only loses the cached reason.
  }
  process.exit(0);
}

if (process.env.SQUID_ONEDNN_SKIP === '1') finish(false, 'build skipped (SQUID_ONEDNN_SKIP=1)');
if (process.platform !== 'linux' || process.arch !== 'x64') {
  finish(false, `not built: only linux-x64 is supported (this is ${process.platform}-${process.arch})`);
}

const headerDirs = (process.env.CPATH ?? '')
  .split(':')
  .filter(Boolean)
  .concat(['/usr/include', '/usr/local/include']);
if (!headerDirs.some((d) => existsSync(join(d, 'oneapi', 'dnnl', 'dnnl.hpp')))) {
  finish(false, 'not built: oneDNN headers not found (Debian/Ubuntu: apt-get install libdnnl-dev)');
}

const require = createRequire(import.meta.url);
let nodeGyp;
try {
  nodeGyp = require.resolve('node-gyp/bin/node-gyp.js');
} catch {
  finish(false, 'not built: node-gyp is not installed');
}

// Offline machines cannot download Node headers; a Node installed from a distro or tarball
// ships them next to the binary.
const args = [nodeGyp, 'rebuild'];
const prefix = dirname(dirname(process.execPath));
if (existsSync(join(prefix, 'include', 'node', 'common.gypi'))) args.push(`--nodedir=${prefix}`);
if (!verbose) args.push('--silent');

rmSync(statusFile, { force: true });
const res = spawnSync(process.execPath, args, {
  cwd: pkgDir,
  stdio: verbose ? 'inherit' : 'pipe',
  encoding: 'utf8',
  env: { ...process.env, JOBS: process.env.JOBS ?? '2' },
});
if (res.status !== 0) {
  const out = `${res.stderr ?? ''}\n${res.stdout ?? ''}`;
  const firstError =
    out
      .split('\n')
      .find((l) => /error/i.test(l))
      ?.trim() ?? `exit code ${res.status}`;
  finish(
    false,
    `not built: node-gyp failed (${firstError.slice(0, 200)}); rerun with pnpm build:addon for details`,
  );
}
finish(true, 'native oneDNN kernels built');

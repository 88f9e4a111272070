#!/usr/bin/env node
// `node scripts/setup.mjs`: the quickstart's set-up. The native oneDNN kernels (several times
// faster training) are built at install time when oneDNN's headers are there, so first, on Linux
// x64 without them: install Debian/Ubuntu's libdnnl-dev when this user can (root, or sudo without
// a password), and otherwise say what is given up and how to get it. Then install the workspace
// (pnpm 10 through npx). Exit code: the install's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { aptInstall } from './apt-install.mjs';

const say = (line) => console.log(`setup: ${line}`);
const hasOneDnn = () =>
  ['/usr/include', '/usr/local/include'].some((d) => existsSync(`${d}/oneapi/dnnl/dnnl.hpp`));
const SLOWER = 'training runs on plain wasm instead, about 6× slower';

if (process.platform !== 'linux' || process.arch !== 'x64') {
  say(
    `native oneDNN kernels are built for Linux x64 only (this is ${process.platform}-${process.arch}); ${SLOWER}`,
  );
} else if (hasOneDnn()) {
  say('oneDNN found: the install builds the native kernels');
} else {
  const root = process.getuid?.() === 0;
  const canSudo = !root && spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0;
  if (!existsSync('/usr/bin/apt-get') || !(root || canSudo)) {
    say(
      `oneDNN is not installed and cannot be installed from here (no apt-get, or not root and no sudo); ${SLOWER}. ` +
        'To get the native kernels: install libdnnl-dev (Debian/Ubuntu: sudo apt-get install libdnnl-dev), then run this again',
    );
  } else {
    // One line while apt works; its output only if it fails.
    const ok = aptInstall(['libdnnl-dev'], {
      label: 'setup: installing oneDNN for the native kernels (apt-get install -y libdnnl-dev)',
      sudo: !root,
    });
    if (!ok) say(`could not install libdnnl-dev (apt-get's output above); ${SLOWER}`);
    else if (!hasOneDnn()) say(`libdnnl-dev installed, but oneapi/dnnl/dnnl.hpp is not there; ${SLOWER}`);
  }
}

say('installing the workspace: npx -y pnpm@10 install');
const install = spawnSync('npx', ['-y', 'pnpm@10', 'install'], { stdio: 'inherit' });
process.exit(install.status ?? 1);

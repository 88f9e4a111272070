// Debian packages through apt-get without filling the screen (used by scripts/setup.mjs): apt's
// progress (~40 lines for libdnnl-dev) goes to a temporary file, and is shown only when apt fails.
import { spawnSync } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Runs `apt-get ...args` (as root, or through `sudo -n`); returns its exit status and its whole output. */
function aptGet(args, sudo) {
  const [cmd, cmdArgs] = sudo ? ['sudo', ['-n', 'apt-get', ...args]] : ['apt-get', args];
  const dir = mkdtempSync(join(tmpdir(), 'squid-apt-'));
  const file = join(dir, 'apt.log');
  try {
    // One file for stdout and stderr keeps apt's lines in their order.
    const fd = openSync(file, 'w');
    let res;
    try {
      res = spawnSync(cmd, cmdArgs, {
        // No terminal to answer a question: debconf takes the defaults instead of waiting.
        stdio: ['ignore', fd, fd],
        env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
      });
    } finally {
      closeSync(fd);
    }
    const output = readFileSync(file, 'utf8');
    const command = [cmd, ...cmdArgs].join(' ');
    return {
      ok: res.status === 0,
      command,
      output: res.error ? `${command}: ${res.error.message}\n${output}` : output,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * `apt-get install -y <packages>`, with one `apt-get update` and a second try when the first
 * fails (a fresh machine has no package lists). Prints `<label>… done` on one line; when apt
 * fails, prints every attempt's command and output. Returns whether the install succeeded.
 */
export function aptInstall(packages, { label, sudo = false }) {
  process.stdout.write(`${label}… `);
  const install = () => aptGet(['install', '-y', ...packages], sudo);
  const attempts = [install()];
  if (!attempts[0].ok) {
    const update = aptGet(['update'], sudo);
    attempts.push(update);
    if (update.ok) attempts.push(install());
  }
  if (attempts.at(-1).ok) {
    process.stdout.write('done\n');
    return true;
  }
  process.stdout.write('failed:\n');
  for (const a of attempts)
    process.stdout.write(`$ ${a.command}\n${a.output}${a.output.endsWith('\n') ? '' : '\n'}`);
  return false;
}

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const child = fileURLToPath(new URL('./uncaught-error.test-child.ts', import.meta.url));

/** Runs the child: boots the wasm backend, then fails with an error of its own. */
function failAfterWasm(threads: number, failure: 'throw' | 'reject') {
  return spawnSync(process.execPath, ['--import', 'tsx', child, String(threads), failure], {
    cwd: root,
    encoding: 'utf8',
    timeout: 90_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 << 20,
  });
}

describe('errors after the wasm backend booted', () => {
  it.each([
    [1, 'throw'],
    [2, 'reject'],
  ] as const)('reach the user as Node prints them, exit 1 (%i thread(s), %s)', (threads, failure) => {
    const r = failAfterWasm(threads, failure);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('Error: bad input: scan.png is not a PNG');
    // Not rethrown from inside the Emscripten glue (which printed its source line, 39 KB minified).
    expect(r.stderr).not.toMatch(/tfjs-backend-wasm|tf-backend-wasm/);
    expect(r.stderr.length).toBeLessThan(2000);
  });
});

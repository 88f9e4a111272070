import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { initBackend } from './init-backend.js';
import { probeNativeBinding } from './native-binding.js';

let root: string;

/** A fake tfjs-node package directory, optionally with a binding file of the given contents. */
async function fakePackage(name: string, binding?: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  const binary = {
    module_name: 'tfjs_binding',
    module_path: './lib/napi-v{napi_build_version}',
    napi_versions: [3, 8],
  };
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: '@tensorflow/tfjs-node', binary }));
  if (binding !== undefined) {
    await mkdir(join(dir, 'lib', 'napi-v8'), { recursive: true });
    await writeFile(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'), binding);
  }
  return dir;
}

describe('probeNativeBinding', () => {
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), 'squid-native-'));
  });
  afterAll(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it('reports a package that is not installed', () => {
    expect(probeNativeBinding('@tensorflow/tfjs-node', { packageDir: join(root, 'nowhere') })).toEqual({
      ok: false,
      reason: 'not installed',
    });
  });

  it('reports a missing binding (install script not run) with the path it looked for', async () => {
    const dir = await fakePackage('no-binding');
    const probe = probeNativeBinding('@tensorflow/tfjs-node', { packageDir: dir });
    expect(probe.ok).toBe(false);
    if (!probe.ok) {
      expect(probe.reason).toMatch(/^native binding missing/);
      expect(probe.reason).toContain(join(dir, 'lib', 'napi-v8', 'tfjs_binding.node'));
    }
  });

  it('reports a binding that fails to load, with the loader error', async () => {
    const dir = await fakePackage('broken-binding', 'not an ELF file');
    const probe = probeNativeBinding('@tensorflow/tfjs-node', { packageDir: dir });
    expect(probe.ok).toBe(false);
    if (!probe.ok) expect(probe.reason).toMatch(/^native binding failed to load \(.+\)/);
  });

  it('auto skips tfjs-node(-gpu) with a reason and prints no kernel-registration noise', async () => {
    const warn = vi.spyOn(console, 'warn');
    const log = vi.spyOn(console, 'log');
    const report = await initBackend({ backend: 'auto', nativeKernels: false, threads: 1 });
    const noise = [...warn.mock.calls, ...log.mock.calls].map((c) => String(c[0]));
    warn.mockRestore();
    log.mockRestore();
    expect(noise.filter((line) => /already registered/.test(line))).toEqual([]);
    if (report.backend === 'wasm') {
      expect(report.skipped.map((s) => s.backend)).toEqual(['tensorflow-gpu', 'tensorflow']);
      for (const s of report.skipped) {
        expect(s.reason).toMatch(
          /^(not installed|native binding missing|native binding failed to load|no GPU)/,
        );
      }
    }
  });
});

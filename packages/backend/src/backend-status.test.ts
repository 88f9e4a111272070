import { describe, expect, it } from 'vitest';
import { backendStatus, describeBackend, nativeKernelsHint } from './backend-status.js';
import type { BackendReport } from './init-backend.js';

const wasm = (nativeKernels: BackendReport['nativeKernels'], threads = 2): BackendReport => ({
  backend: 'wasm',
  tfBackend: 'wasm',
  skipped: [
    { backend: 'tensorflow-gpu', reason: 'not installed' },
    { backend: 'tensorflow', reason: 'native binding missing (no /x/tfjs_binding.node: ...)' },
  ],
  nativeKernels,
  wasmThreads: { requested: threads, threads },
});

describe('describeBackend', () => {
  it('says backend, threads and that the oneDNN kernels are on', () => {
    expect(describeBackend(wasm({ enabled: true }))).toBe(
      'backend wasm, 2 threads, oneDNN kernels on [skipped tensorflow-gpu: not installed; tensorflow: native binding missing]',
    );
    expect(backendStatus(wasm({ enabled: true }, 1))).toEqual({
      backend: 'wasm',
      threads: 1,
      nativeKernels: { enabled: true },
    });
  });

  it('says why the kernels are off and the command that turns them on', () => {
    const reason = 'addon not built: oneDNN headers not found (Debian/Ubuntu: apt-get install libdnnl-dev)';
    const line = describeBackend(wasm({ enabled: false, reason }, 1));
    expect(line).toContain(
      `backend wasm, 1 thread, oneDNN kernels off (${reason}); for the faster path: apt-get install libdnnl-dev`,
    );
    expect(backendStatus(wasm({ enabled: false, reason: 'not installed' })).enableNativeKernels).toBe(
      'npm install @squid-ad/backend-onednn (Linux x64, needs libdnnl-dev)',
    );
  });

  it('gives no hint where the kernels cannot help', () => {
    expect(nativeKernelsHint('not used on tensorflow')).toBeUndefined();
    expect(
      nativeKernelsHint('not built: only linux-x64 is supported (this is darwin-arm64)'),
    ).toBeUndefined();
    expect(nativeKernelsHint('disabled (nativeKernels: false or SQUID_NATIVE_KERNELS=0)')).toBe(
      'unset SQUID_NATIVE_KERNELS and SQUID_ONEDNN',
    );
    const native: BackendReport = {
      backend: 'tensorflow',
      tfBackend: 'tensorflow',
      skipped: [],
      nativeKernels: { enabled: false, reason: 'not used on tensorflow' },
    };
    expect(describeBackend(native)).toBe('backend tensorflow');
  });
});

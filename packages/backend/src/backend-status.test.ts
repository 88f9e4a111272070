import { describe, expect, it } from 'vitest';
import { backendStatus, describeBackend, nativeKernelsHint } from './backend-status.js';
import type { BackendReport } from './init-backend.js';

const wasm = (
  nativeKernels: BackendReport['nativeKernels'],
  threads = 2,
  precision: Pick<BackendReport, 'precision' | 'precisionNote'> = { precision: 'float32' },
): BackendReport => ({
  backend: 'wasm',
  tfBackend: 'wasm',
  skipped: [
    { backend: 'tensorflow-gpu', reason: 'not installed' },
    { backend: 'tensorflow', reason: 'native binding missing (no /x/tfjs_binding.node: ...)' },
  ],
  nativeKernels,
  ...precision,
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
      precision: 'float32',
    });
  });

  it('names bfloat16 when the kernels compute in it, and why not when asked for but off', () => {
    const bf16 = wasm({ enabled: true }, 1, { precision: 'bfloat16' });
    expect(describeBackend(bf16)).toMatch(/^backend wasm, 1 thread, oneDNN kernels on, bfloat16 \[skipped/);
    expect(backendStatus(bf16).precision).toBe('bfloat16');
    const off = wasm({ enabled: false, reason: 'not installed' }, 1, {
      precision: 'float32',
      precisionNote: 'bfloat16 needs the oneDNN kernels; computing in float32',
    });
    expect(describeBackend(off)).toContain(
      'oneDNN kernels off (not installed); for the faster path: npm install @squid-ad/backend-onednn (Linux x64, needs libdnnl-dev) (bfloat16 needs the oneDNN kernels; computing in float32)',
    );
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
      precision: 'float32',
    };
    expect(describeBackend(native)).toBe('backend tensorflow');
  });
});

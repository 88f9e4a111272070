import type { BackendReport } from './init-backend.js';

/** What a command prints and records about the backend it computes on. */
export interface BackendStatus {
  backend: BackendReport['backend'];
  /** wasm threads running (1 elsewhere: native backends manage their own). */
  threads: number;
  nativeKernels: BackendReport['nativeKernels'];
  /** What convolutions and matMuls compute in (bfloat16 only with the oneDNN kernels). */
  precision: BackendReport['precision'];
  precisionNote?: string;
  /** When the native kernels are off on wasm/cpu: the command that turns them on. */
  enableNativeKernels?: string;
}

const REBUILD = 'npm rebuild @squid-ad/backend-onednn (in this repository: pnpm install)';

/** How to turn the oneDNN kernels on, given why they are off; undefined when nothing would help. */
export function nativeKernelsHint(reason: string | undefined): string | undefined {
  if (!reason) return undefined;
  if (reason.startsWith('not used on')) return undefined;
  if (reason.startsWith('disabled')) return 'unset SQUID_NATIVE_KERNELS and SQUID_ONEDNN';
  if (reason === 'not installed')
    return 'npm install @squid-ad/backend-onednn (Linux x64, needs libdnnl-dev)';
  if (/only linux-x64/.test(reason)) return undefined;
  if (/libdnnl|oneDNN headers|dnnl\.so/.test(reason))
    return `apt-get install libdnnl-dev (Debian/Ubuntu), then ${REBUILD}`;
  return REBUILD;
}

/** The facts of {@link describeBackend}, for `--json` output and reports. */
export function backendStatus(report: BackendReport): BackendStatus {
  const status: BackendStatus = {
    backend: report.backend,
    threads: report.wasmThreads?.threads ?? 1,
    nativeKernels: report.nativeKernels,
    precision: report.precision,
    ...(report.precisionNote ? { precisionNote: report.precisionNote } : {}),
  };
  const hint = report.nativeKernels.enabled ? undefined : nativeKernelsHint(report.nativeKernels.reason);
  if (hint) status.enableNativeKernels = hint;
  return status;
}

/**
 * One status line: backend, threads, whether the oneDNN kernels are on and, when they are off
 * on wasm/cpu, why and how to turn them on (a run without them is several times slower).
 */
export function describeBackend(report: BackendReport): string {
  const status = backendStatus(report);
  const threads = report.wasmThreads
    ? `, ${status.threads} thread${status.threads === 1 ? '' : 's'}${report.wasmThreads.reason ? ` (${report.wasmThreads.reason})` : ''}`
    : '';
  // The first clause of a skip reason is enough here (the rest are paths).
  const skipped = report.skipped.map((s) => `${s.backend}: ${s.reason.split(/[(:]/)[0].trim()}`).join('; ');
  const native = report.nativeKernels;
  let kernels = '';
  if (native.enabled) kernels = `, oneDNN kernels on${report.precision === 'bfloat16' ? ', bfloat16' : ''}`;
  else if (!native.reason?.startsWith('not used on')) {
    kernels = `, oneDNN kernels off (${native.reason ?? 'unknown reason'})`;
    if (status.enableNativeKernels) kernels += `; for the faster path: ${status.enableNativeKernels}`;
  }
  const note = report.precisionNote ? ` (${report.precisionNote})` : '';
  return `backend ${report.backend}${threads}${kernels}${note}${skipped ? ` [skipped ${skipped}]` : ''}`;
}

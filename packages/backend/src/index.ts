// Public API of @squid-ad/backend: everything the browser entry has (tf, Rng, state layouts,
// the wasm kernels), plus backend selection, tensor files and what else needs Node.

export { type BackendStatus, backendStatus, describeBackend, nativeKernelsHint } from './backend-status.js';
export * from './browser.js';
export {
  BACKENDS,
  type BackendChoice,
  type BackendReport,
  backendReport,
  type ConcreteBackend,
  type InitBackendOptions,
  initBackend,
  PRECISIONS,
  type PrecisionChoice,
} from './init-backend.js';
export { type KernelTime, kernelProfile } from './kernel-profile.js';
export { measurePeakMemory, type PeakMemory } from './peak-memory.js';
export { readSafetensors, type SafetensorsEntry } from './safetensors.js';
export {
  hasTensors,
  type JsonValue,
  type LoadedTensors,
  type LoadTensorsOptions,
  loadTensors,
  MANIFEST,
  type SavedDtype,
  saveTensors,
  type TensorExpectation,
} from './tensor-io.js';
export { CPU_FALLBACK_KERNELS, CPU_REPLACED_KERNELS } from './wasm-cpu-fallback.js';
export { registerWasmTrainingKernels, stockWasmKernel, wasmTrainingKernelNames } from './wasm-kernels.js';
export { installWasmMatMul } from './wasm-matmul.js';
export {
  initWasmBackend,
  logicalCores,
  MAX_WASM_THREADS,
  resolveThreads,
  THREADED_WASM_VERSION,
  type ThreadsChoice,
  type WasmThreadsReport,
} from './wasm-threads.js';
export {
  appendFileWholeSync,
  type WriteAtomicOptions,
  type WriteData,
  writeFileAtomic,
  writeFileAtomicSync,
} from './write-atomic.js';
export {
  checkFreeSpace,
  type FreeSpace,
  formatBytes,
  freeSpace,
  WriteError,
  writeError,
} from './write-error.js';

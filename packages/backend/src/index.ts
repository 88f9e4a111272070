export { type BackendStatus, backendStatus, describeBackend, nativeKernelsHint } from './backend-status.js';
export {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type FusedAdamKernel,
  fusedAdamKernel,
  setFusedAdamKernel,
} from './fused-kernels.js';
export {
  BACKENDS,
  type BackendChoice,
  type BackendReport,
  backendReport,
  type ConcreteBackend,
  type InitBackendOptions,
  initBackend,
} from './init-backend.js';
export { type KernelTime, kernelProfile } from './kernel-profile.js';
export { installLeanGradients, leanGradientsInstalled, uninstallLeanGradients } from './lean-gradients.js';
export { measurePeakMemory, type PeakMemory } from './peak-memory.js';
export { Rng, type RngState } from './rng.js';
export { readSafetensors, type SafetensorsEntry } from './safetensors.js';
export {
  fromOfficialLayout,
  type OfficialLayout,
  prefixState,
  type StateEntry,
  type Stateful,
  toOfficialLayout,
} from './state.js';
export { stopGradient } from './stop-gradient.js';
export { float32Storage, storageView } from './tensor-buffer.js';
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
export { tf } from './tf.js';
export { TorchGenerator } from './torch-generator.js';
export { CPU_FALLBACK_KERNELS, CPU_REPLACED_KERNELS } from './wasm-cpu-fallback.js';
export { installWasmKernels } from './wasm-install.js';
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
export { type WriteAtomicOptions, writeFileAtomic, writeFileAtomicSync } from './write-atomic.js';

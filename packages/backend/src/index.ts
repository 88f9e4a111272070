export { tf } from './tf.js';
export {
  BACKENDS,
  type BackendChoice,
  type BackendReport,
  type ConcreteBackend,
  type InitBackendOptions,
  backendReport,
  initBackend,
} from './init-backend.js';
export { Rng, type RngState } from './rng.js';
export { stopGradient } from './stop-gradient.js';
export { readSafetensors, type SafetensorsEntry } from './safetensors.js';
export {
  fromOfficialLayout,
  type OfficialLayout,
  prefixState,
  type StateEntry,
  type Stateful,
  toOfficialLayout,
} from './state.js';
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

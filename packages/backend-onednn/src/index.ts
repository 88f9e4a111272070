export { type AddonLoad, loadAddon, type OneDnnAddon } from './addon.js';
export {
  dataAccess,
  KERNEL_NAMES,
  type KernelStats,
  NATIVE_BACKENDS,
  type NativeBackendName,
  type NativeKernelName,
} from './kernels.js';
export {
  disableNativeKernels,
  enableNativeKernels,
  NativeKernelsConfig,
  type NativeKernelsOptions,
  type NativeKernelsStatus,
  nativeAvailable,
  nativeKernelStats,
  nativeKernelsStatus,
  oneDnn,
} from './native-kernels.js';
export { activationCode, convParams, planMatMul } from './params.js';
export { defaultThreads, wasmThreadsOf } from './threads.js';

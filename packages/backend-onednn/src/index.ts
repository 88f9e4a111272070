export { type AddonLoad, loadAddon, type OneDnnAddon } from './addon.js';
export { isConstant, markConstant, toBf16 } from './constant-operands.js';
export {
  BF16_MIN_FLOPS,
  BF16_MIN_FLOPS_CONSTANT,
  BF16_MIN_INTENSITY,
  bf16Pays,
  bf16WeightGradientPays,
  dataAccess,
  KERNEL_NAMES,
  type KernelStats,
  NATIVE_BACKENDS,
  type NativeBackendName,
  type NativeKernelName,
  type NativeOps,
  nativeOps,
} from './kernels.js';
export {
  AUTO_BF16_KERNELS,
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
export {
  type Bf16Support,
  bf16Support,
  PRECISIONS,
  type Precision,
  type PrecisionChoice,
  precisionFromEnv,
  resolvePrecision,
} from './precision.js';
export { defaultThreads, wasmThreadsOf } from './threads.js';

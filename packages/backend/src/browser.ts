// The browser entry of @squid-ad/backend (the `browser` export condition): what inference needs,
// without a `node:` import. Backend selection (initBackend), tensor files and the native
// kernels are Node-only; in a browser pick a backend with `tf.setBackend`.

export { markConstant } from './constant-tensors.js';
export {
  BATCH_NORM_TRAIN,
  BATCH_NORM_TRAIN_GRAD,
  type FusedAdamKernel,
  fusedAdamKernel,
  setFusedAdamKernel,
} from './fused-kernels.js';
export { installLeanGradients, leanGradientsInstalled, uninstallLeanGradients } from './lean-gradients.js';
export { Rng, type RngState } from './rng.js';
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
export { tf } from './tf.js';
export { TorchGenerator } from './torch-generator.js';
export { installWasmKernels } from './wasm-install.js';

import { installWasmScalarBroadcast } from './wasm-binary.js';
import { registerWasmTrainingKernels } from './wasm-kernels.js';
import { installWasmMatMul } from './wasm-matmul.js';
import { installWasmSlice } from './wasm-slice.js';

/**
 * Registers squid's own wasm kernels (the training kernels wasm lacks, the faster matMul and
 * slice, scalar broadcasts): what `initBackend('wasm')` installs, callable in a browser too, so
 * a page computes with the same kernels as Node. Idempotent; call before or after `setBackend('wasm')`.
 */
export function installWasmKernels(): void {
  registerWasmTrainingKernels();
  installWasmMatMul();
  installWasmSlice();
  installWasmScalarBroadcast();
}

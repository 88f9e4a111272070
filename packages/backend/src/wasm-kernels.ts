import { tf } from './tf.js';
import { wasmConvGradKernels } from './wasm-conv-grad.js';
import { wasmCpuFallbackKernels } from './wasm-cpu-fallback.js';
import { wasmIdentityKernel } from './wasm-identity.js';

const replaced = new Map<string, tf.KernelConfig>();
const ours: string[] = [];
let registered = false;

/**
 * The wasm kernel tfjs-backend-wasm itself registered under `kernelName` before
 * {@link registerWasmTrainingKernels} replaced it (for benchmarks and comparisons).
 */
export function stockWasmKernel(kernelName: string): tf.KernelConfig | undefined {
  return replaced.get(kernelName);
}

/** Names of the wasm kernels squid registers (or would register, before the first call). */
export function wasmTrainingKernelNames(): string[] {
  if (registered) return [...ours];
  return trainingKernels().map((k) => k.kernelName);
}

const trainingKernels = () => [...wasmConvGradKernels, wasmIdentityKernel, ...wasmCpuFallbackKernels()];

/**
 * Registers the kernels that training needs and tfjs-backend-wasm 4.22 lacks or runs slowly
 * (see the package README). Idempotent; call after importing `@tensorflow/tfjs-backend-wasm`.
 */
export function registerWasmTrainingKernels(): void {
  if (registered) return;
  for (const config of trainingKernels()) {
    const stock = tf.getKernel(config.kernelName, 'wasm');
    if (stock) {
      replaced.set(config.kernelName, stock);
      tf.unregisterKernel(config.kernelName, 'wasm');
    }
    tf.registerKernel(config);
    ours.push(config.kernelName);
  }
  registered = true;
}

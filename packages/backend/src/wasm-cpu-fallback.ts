// Kernels tfjs-backend-wasm 4.22 lacks and squid's training steps can reach, but which are not
// hot: for these, copying the inputs to the cpu backend, running its kernel and copying the
// result back costs less than writing and maintaining a native version.
import { tf } from './tf.js';
import type { WasmBackend } from './wasm-kernel-scope.js';

/** Kernels wasm lacks, run through the cpu backend, and the op that reaches each. */
export const CPU_FALLBACK_KERNELS: Record<string, string> = {
  UnsortedSegmentSum: 'gradient of tf.gather (and tf.unsortedSegmentSum)',
  DepthwiseConv2dNativeBackpropFilter: 'gradient of tf.depthwiseConv2d / separableConv2d (filter)',
  DepthwiseConv2dNativeBackpropInput: 'gradient of tf.depthwiseConv2d / separableConv2d (input)',
  Einsum: 'tf.einsum',
};

/** Kernels wasm has but computes wrongly in 4.22 (checked against cpu in the tests): replaced. */
export const CPU_REPLACED_KERNELS: Record<string, string> = {
  MaxPoolGrad: "gradient of tf.maxPool: wrong with 'same' padding",
  ResizeNearestNeighborGrad: 'gradient of tf.image.resizeNearestNeighbor: wrong values',
};

function cpuBackend(): tf.KernelBackend {
  const cpu = tf.findBackend('cpu');
  if (!cpu) throw new Error('@squid-ad/backend: the cpu backend is needed for wasm fallback kernels');
  return cpu;
}

/** A wasm kernel that runs `kernelName`'s cpu implementation on copies of the data. */
function viaCpu(kernelName: string): tf.KernelConfig {
  const kernelFunc: tf.KernelFunc = ({ inputs, attrs, backend }) => {
    const wasm = backend as WasmBackend;
    const cpu = cpuBackend();
    const cpuKernel = tf.getKernel(kernelName, 'cpu');
    if (!cpuKernel)
      throw new Error(`@squid-ad/backend: cpu backend has no ${kernelName} kernel to fall back on`);
    const written: object[] = [];
    const toCpu = (info: tf.TensorInfo): tf.TensorInfo => {
      const values = wasm.readSync(info.dataId) as tf.backend_util.BackendValues;
      const dataId = cpu.write(values, info.shape, info.dtype);
      written.push(dataId);
      return { dataId, shape: info.shape, dtype: info.dtype };
    };
    // Most kernels take named inputs; a few (Einsum) take an array.
    const cpuInputs = Array.isArray(inputs)
      ? (inputs as tf.TensorInfo[]).map(toCpu)
      : Object.fromEntries(
          Object.entries(inputs)
            .filter(([, info]) => info !== undefined)
            .map(([name, info]) => [name, toCpu(info as tf.TensorInfo)]),
        );
    try {
      const result = cpuKernel.kernelFunc({
        inputs: cpuInputs as tf.NamedTensorInfoMap,
        attrs,
        backend: cpu,
      });
      const outs = Array.isArray(result) ? result : [result];
      const copied = outs.map((out) => {
        const values = cpu.readSync(out.dataId) as tf.TypedArray;
        const copy = wasm.makeOutput(out.shape, out.dtype);
        wasm.typedArrayFromHeap(copy).set(values);
        cpu.disposeData(out.dataId);
        return copy;
      });
      return Array.isArray(result) ? copied : copied[0];
    } finally {
      for (const dataId of written) cpu.disposeData(dataId);
    }
  };
  return { kernelName, backendName: 'wasm', kernelFunc };
}

/** Fallback configs: every missing kernel wasm does not have itself, and every replaced one. */
export function wasmCpuFallbackKernels(): tf.KernelConfig[] {
  const missing = Object.keys(CPU_FALLBACK_KERNELS).filter(
    (name) => tf.getKernel(name, 'wasm') === undefined,
  );
  return [...missing, ...Object.keys(CPU_REPLACED_KERNELS)]
    .filter((name) => tf.getKernel(name, 'cpu') !== undefined)
    .map(viaCpu);
}

// The gradient of tf.image.resizeBilinear with half-pixel centres, for wasm and cpu.
//
// Why: TF.js 4.22's ResizeBilinearGrad kernels (cpu and wasm) read only `alignCorners` and
// ignore `halfPixelCenters`: they return the gradient of the other sampling grid (source pixel
// r·scale instead of (r + ½)·scale − ½). With half-pixel centres, PyTorch's `align_corners=False`
// and how squid upsamples in its decoder, training got a wrong gradient (off by up to ~50 % per
// entry against finite differences); the cpu one also returns [B, W, H, C] for non-square
// images. These kernels scatter each output gradient onto the four source pixels the forward pass
// read, with its weights. On wasm, gradients without half-pixel centres stay with the stock kernel.
// The union package directly, not ./tf.js: tf.ts installs these kernels while it loads.
import * as tf from '@tensorflow/tfjs';
import { defineHeapTask, heapOf, runHeapTask } from './wasm-heap-workers.js';
import type { WasmBackend } from './wasm-kernel-scope.js';

type TensorInfo = tf.TensorInfo;
type KernelFn = (args: {
  inputs: tf.NamedTensorInfoMap;
  backend: unknown;
  attrs?: tf.NamedAttrMap;
}) => TensorInfo;

/**
 * dx for images [lo, hi) of the batch. args = [dy, dx (float offsets into heap), xh, xw, yh, yw,
 * depth, alignCorners (0/1), halfPixelCenters (0/1)]; dx must be zero. Source coordinates as the
 * cpu forward kernel computes them: src = ratio·(r + ½) − ½ (half-pixel) or ratio·r,
 * top = max(0, ⌊src⌋), bottom = min(h − 1, ⌈src⌉), weight of bottom = src − top.
 */
const SCATTER = defineHeapTask((heap, args, lo, hi) => {
  const dy = args[0];
  const dx = args[1];
  const xh = args[2];
  const xw = args[3];
  const yh = args[4];
  const yw = args[5];
  const depth = args[6];
  const align = args[7] === 1;
  const half = args[8] === 1 ? 0.5 : 0;
  const rowRatio = (align && yh > 1 ? xh - 1 : xh) / (align && yh > 1 ? yh - 1 : yh);
  const colRatio = (align && yw > 1 ? xw - 1 : xw) / (align && yw > 1 ? yw - 1 : yw);
  for (let b = lo; b < hi; b++) {
    const dxImage = dx + b * xh * xw * depth;
    let src = dy + b * yh * yw * depth;
    for (let r = 0; r < yh; r++) {
      const fr = rowRatio * (r + half) - half;
      const top = Math.max(0, Math.floor(fr));
      const bottom = Math.min(xh - 1, Math.ceil(fr));
      const rl = fr - top;
      for (let c = 0; c < yw; c++, src += depth) {
        const fc = colRatio * (c + half) - half;
        const left = Math.max(0, Math.floor(fc));
        const right = Math.min(xw - 1, Math.ceil(fc));
        const cl = fc - left;
        const tl = dxImage + (top * xw + left) * depth;
        const tr = dxImage + (top * xw + right) * depth;
        const bl = dxImage + (bottom * xw + left) * depth;
        const br = dxImage + (bottom * xw + right) * depth;
        const wtl = (1 - rl) * (1 - cl);
        const wtr = (1 - rl) * cl;
        const wbl = rl * (1 - cl);
        const wbr = rl * cl;
        for (let d = 0; d < depth; d++) {
          const v = heap[src + d];
          heap[tl + d] += v * wtl;
          heap[tr + d] += v * wtr;
          heap[bl + d] += v * wbl;
          heap[br + d] += v * wbr;
        }
      }
    }
  }
});

interface GradAttrs {
  alignCorners: boolean;
  halfPixelCenters?: boolean;
}

const task = (images: TensorInfo, dy: TensorInfo, attrs: GradAttrs) => {
  const [batch, xh, xw, depth] = images.shape;
  const [, yh, yw] = dy.shape;
  return {
    batch,
    args: [xh, xw, yh, yw, depth, attrs.alignCorners ? 1 : 0, attrs.halfPixelCenters ? 1 : 0],
    imageElements: yh * yw * depth,
  };
};

function wasmKernel(stock: KernelFn): KernelFn {
  return (kernelArgs) => {
    const attrs = kernelArgs.attrs as unknown as GradAttrs;
    const { images, dy } = kernelArgs.inputs as { images: TensorInfo; dy: TensorInfo };
    if (!attrs.halfPixelCenters || dy.dtype !== 'float32') return stock(kernelArgs);
    const backend = kernelArgs.backend as WasmBackend;
    const dx = backend.makeOutput(images.shape, 'float32');
    // The heap view after makeOutput: allocating may grow (and so replace) the heap buffer.
    const { heap, offset } = heapOf(backend);
    heap.fill(0, offset(dx), offset(dx) + images.shape.reduce((p, d) => p * d, 1));
    const t = task(images, dy, attrs);
    runHeapTask(SCATTER, heap, [offset(dy), offset(dx), ...t.args], t.batch, t.imageElements);
    return dx;
  };
}

function cpuKernel(_stock: KernelFn): KernelFn {
  return (kernelArgs) => {
    const attrs = kernelArgs.attrs as unknown as GradAttrs;
    const { images, dy } = kernelArgs.inputs as { images: TensorInfo; dy: TensorInfo };
    // Every case: the stock cpu kernel also returns [B, W, H, C] for non-square images.
    const backend = kernelArgs.backend as tf.KernelBackend & {
      data: { get(id: object): { values: tf.TypedArray } };
      makeTensorInfo(shape: number[], dtype: tf.DataType, values: Float32Array): TensorInfo;
    };
    const dyValues = backend.data.get(dy.dataId).values;
    // One buffer holding dy then dx, the layout the task expects.
    const heap = new Float32Array(dyValues.length + images.shape.reduce((p, d) => p * d, 1));
    heap.set(dyValues);
    const t = task(images, dy, attrs);
    runHeapTask(SCATTER, heap, [0, dyValues.length, ...t.args], t.batch, 0);
    return backend.makeTensorInfo(images.shape, 'float32', heap.slice(dyValues.length));
  };
}

const stockKernels = new Map<string, tf.KernelConfig>();

/**
 * Replaces the wasm and cpu `ResizeBilinearGrad` kernels with ones that honour
 * `halfPixelCenters`. Idempotent; a backend whose package is not loaded yet is skipped.
 */
export function installResizeBilinearGrad(): void {
  for (const [backendName, make] of [
    ['wasm', wasmKernel],
    ['cpu', cpuKernel],
  ] as const) {
    if (stockKernels.has(backendName)) continue;
    const stock = tf.getKernel(tf.ResizeBilinearGrad, backendName);
    if (!stock) continue;
    stockKernels.set(backendName, stock);
    tf.unregisterKernel(tf.ResizeBilinearGrad, backendName);
    tf.registerKernel({
      ...stock,
      kernelFunc: make(stock.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc,
    });
  }
}

/** The kernel TF.js registered before {@link installResizeBilinearGrad} (for tests). */
export function stockResizeBilinearGrad(backendName: 'wasm' | 'cpu'): tf.KernelConfig | undefined {
  return stockKernels.get(backendName);
}

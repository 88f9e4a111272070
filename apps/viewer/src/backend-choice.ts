import { installWasmKernels, tf } from '@squid-ad/backend';
import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import '@tensorflow/tfjs-backend-webgpu';
import wasmPlain from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm?url';
import wasmSimd from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-simd.wasm?url';
import wasmThreaded from '@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm-threaded-simd.wasm?url';

// The wasm binaries come from this page's own assets, never a CDN.
setWasmPaths({
  'tfjs-backend-wasm.wasm': wasmPlain,
  'tfjs-backend-wasm-simd.wasm': wasmSimd,
  'tfjs-backend-wasm-threaded-simd.wasm': wasmThreaded,
});

// Threaded wasm starts workers from the source text of tfjs's module factory, which a bundler's
// minification breaks (the workers die with "e is not defined"): one thread, SIMD.
tf.env().set('WASM_HAS_MULTITHREAD_SUPPORT', false);

// squid's own wasm kernels, as Node's initBackend installs them: the same numbers as Node's wasm.
installWasmKernels();

export const BACKEND_ORDER = ['webgpu', 'webgl', 'wasm', 'cpu'] as const;
export type BrowserBackend = (typeof BACKEND_ORDER)[number];

/** Why the browser cannot run `name`, if it cannot: checked first, so tfjs logs no warning. */
async function unavailable(name: BrowserBackend, forced: boolean): Promise<string | undefined> {
  if (name === 'webgpu') {
    const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
    if (!gpu) return 'no WebGPU';
    // Headless or GPU-less browsers expose navigator.gpu but have no adapter.
    if (!(await gpu.requestAdapter().catch(() => null))) return 'no WebGPU adapter';
  }
  if (name === 'webgl') {
    const gl = document.createElement('canvas').getContext('webgl2');
    if (!gl) return 'no WebGL 2';
    // Without a GPU, Chromium emulates WebGL on the CPU (SwiftShader): ~30× slower than wasm.
    const info = gl.getExtension('WEBGL_debug_renderer_info');
    const renderer = info ? String(gl.getParameter(info.UNMASKED_RENDERER_WEBGL)) : '';
    if (!forced && /swiftshader|llvmpipe|software/i.test(renderer)) return `software renderer (${renderer})`;
  }
  return undefined;
}

/**
 * Switches TensorFlow.js to the best backend the browser offers (WebGPU, WebGL, wasm, CPU), or
 * to `forced`. Returns it and why the better ones were skipped.
 */
export async function chooseBackend(
  forced?: BrowserBackend,
): Promise<{ backend: BrowserBackend; skipped: string[] }> {
  const skipped: string[] = [];
  for (const name of forced ? [forced] : BACKEND_ORDER) {
    const missing = await unavailable(name, forced !== undefined);
    if (missing) {
      skipped.push(`${name}: ${missing}`);
      continue;
    }
    try {
      if (await tf.setBackend(name)) {
        await tf.ready();
        return { backend: name, skipped };
      }
      skipped.push(`${name}: failed to start`);
    } catch (err) {
      skipped.push(`${name}: ${(err as Error).message}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could start (${skipped.join('; ')})`);
}

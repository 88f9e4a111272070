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

/** Whether the browser could run `name` at all, checked without a console warning from tfjs. */
function available(name: BrowserBackend): string | undefined {
  if (name === 'webgpu' && !(navigator as { gpu?: unknown }).gpu) return 'no WebGPU';
  if (name === 'webgl' && !document.createElement('canvas').getContext('webgl2')) return 'no WebGL 2';
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
    const missing = available(name);
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

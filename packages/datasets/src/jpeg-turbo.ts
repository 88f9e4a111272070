import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// libjpeg-turbo compiled to WebAssembly (@cornerstonejs/codec-libjpeg-turbo-8bit): ~7× faster
// than jpeg-js on a 1500×1800 radiograph, without a native binary. The package ships no types.

interface FrameInfo {
  width: number;
  height: number;
  bitsPerSample: number;
  componentCount: number;
}

interface TurboDecoder {
  getEncodedBuffer(length: number): Uint8Array;
  decode(): void;
  getFrameInfo(): FrameInfo;
  getDecodedBuffer(): Uint8Array;
  delete(): void;
}

// The global WebAssembly object, typed here: this repo's TypeScript libs (ES2022, no DOM) lack it.
interface WasmInstance {
  exports: object;
}
interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => WasmInstance;
}

interface TurboModule {
  JPEGDecoder?: new () => TurboDecoder;
  instantiateWasm(imports: object, done: (instance: WasmInstance, module: object) => void): object;
  print(text: string): void;
  printErr(text: string): void;
}

const PACKAGE = '@cornerstonejs/codec-libjpeg-turbo-8bit';
let decoderClass: (new () => TurboDecoder) | null | undefined;

// Emscripten's factory is asynchronous only because it compiles the wasm asynchronously; its
// documented `instantiateWasm` hook lets us instantiate synchronously, so the synchronous
// decodeImage gets libjpeg-turbo too. The module object is filled in during the factory call.
function turbo(): (new () => TurboDecoder) | null {
  if (decoderClass !== undefined) return decoderClass;
  decoderClass = null;
  try {
    const require = createRequire(import.meta.url);
    const factory = require(`${PACKAGE}/decodewasmjs`) as (m: TurboModule) => Promise<unknown>;
    const { Module, Instance } = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;
    const wasm = new Module(readFileSync(require.resolve(`${PACKAGE}/decodewasm`)));
    const module: TurboModule = {
      instantiateWasm(imports, done) {
        const instance = new Instance(wasm, imports);
        done(instance, wasm);
        return instance.exports;
      },
      // libjpeg's own messages are not ours to print: a failure falls back to jpeg-js (jpeg-codec.ts).
      print: () => undefined,
      printErr: () => undefined,
    };
    factory(module).catch(() => undefined);
    if (typeof module.JPEGDecoder === 'function') decoderClass = module.JPEGDecoder;
  } catch {
    // Not installed or not loadable on this platform: jpeg-js decodes instead.
  }
  return decoderClass;
}

/** Decoded 8-bit samples, `components` (1 grey, 3 RGB) interleaved per pixel. */
export interface JpegSamples {
  width: number;
  height: number;
  components: number;
  data: Uint8Array;
}

/**
 * Decodes a JPEG with libjpeg-turbo. Undefined when the codec is unavailable or refuses the file
 * (corrupt, truncated, CMYK, 12-bit): the caller then asks jpeg-js, which decodes it or says why not.
 */
export function decodeJpegTurbo(bytes: Uint8Array): JpegSamples | undefined {
  const Decoder = turbo();
  if (!Decoder) return undefined;
  const decoder = new Decoder();
  try {
    decoder.getEncodedBuffer(bytes.length).set(bytes);
    decoder.decode();
    const { width, height, bitsPerSample, componentCount } = decoder.getFrameInfo();
    if (bitsPerSample !== 8 || (componentCount !== 1 && componentCount !== 3)) return undefined;
    const view = decoder.getDecodedBuffer();
    if (view.length < width * height * componentCount) return undefined;
    // The view lives in the wasm heap, reused by the next decode: copy it out.
    return {
      width,
      height,
      components: componentCount,
      data: view.slice(0, width * height * componentCount),
    };
  } catch {
    // libjpeg errors surface as bare numbers (C++ exception pointers), useless in a message.
    return undefined;
  } finally {
    decoder.delete();
  }
}

// Child of uncaught-error.test.ts: boots the wasm backend, then fails with an error of its own.
// Usage: uncaught-error.test-child.ts <threads> throw|reject
import { initBackend } from './index.js';

const [threads, failure] = process.argv.slice(2);
await initBackend({ backend: 'wasm', nativeKernels: false, threads: Number(threads) });
const error = new Error('bad input: scan.png is not a PNG');
if (failure === 'reject') Promise.reject(error);
else throw error;

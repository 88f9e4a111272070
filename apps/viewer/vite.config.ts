import { defineConfig } from 'vite';

// A static page: relative asset URLs so it works from any path (squid-eval view serves it at /).
export default defineConfig({
  root: 'src',
  base: './',
  build: {
    outDir: '../dist',
    emptyOutDir: true,
    // tfjs is big; one chunk is fine for a local page.
    chunkSizeWarningLimit: 4000,
    target: 'es2022',
  },
  // The wasm backend's .wasm files are copied as assets (imported with ?url).
  assetsInclude: ['**/*.wasm'],
});

/**
 * electron-vite: three builds from one file.
 * - main    (electron/main/index.ts)    → out/main/index.js, ESM (package.json is "type": "module"; Electron 45 runs ESM main)
 * - preload (electron/preload/index.ts) → out/preload/index.cjs, CommonJS: a sandboxed preload cannot be an ES module,
 *   and it must be a single file (no chunks, no node_modules requires) because sandboxed preloads only get a
 *   tiny `require` that knows 'electron' and a few Node built-ins.
 * - renderer (renderer/index.html)      → out/renderer, the same files `berth serve` serves to a browser.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  main: {
    build: {
      outDir: 'out/main',
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'electron/main/index.ts') },
        output: { format: 'es', entryFileNames: '[name].js', chunkFileNames: 'chunks/[name]-[hash].js' },
      },
    },
  },
  preload: {
    build: {
      outDir: 'out/preload',
      // Bundle everything into the one file: the sandbox cannot require node_modules.
      externalizeDeps: false,
      isolatedEntries: true,
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'electron/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    plugins: [react()],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      emptyOutDir: true,
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'renderer/index.html') },
      },
    },
  },
});

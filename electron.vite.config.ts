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
import type { Plugin } from 'vite';

/**
 * In `npm run dev` the page's own CSP <meta> (script-src 'self') would block the inline preamble of React
 * fast refresh; the main process sends a dev-only CSP header instead (electron/main/security.ts), so the
 * dev server drops the <meta>. Built pages keep it.
 */
const devWithoutMetaCsp: Plugin = {
  name: 'berth:dev-without-meta-csp',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace(/<meta\s+http-equiv="Content-Security-Policy"[^>]*>/i, ''),
};

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
    plugins: [react(), devWithoutMetaCsp],
    build: {
      outDir: resolve(import.meta.dirname, 'out/renderer'),
      emptyOutDir: true,
      minify: true,
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'renderer/index.html') },
      },
    },
  },
});

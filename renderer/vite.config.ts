/**
 * Builds the UI alone (`npm run build:ui`), to the same place electron-vite puts it (out/renderer), for
 * `berth serve` and the e2e tests when the Electron parts are not needed. electron.vite.config.ts holds
 * the same renderer settings for the desktop build.
 */
import { resolve } from 'node:path';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

export default defineConfig({
  root: import.meta.dirname,
  base: './',
  plugins: [react()],
  build: {
    outDir: resolve(import.meta.dirname, '../out/renderer'),
    emptyOutDir: true,
  },
});

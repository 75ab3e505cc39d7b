/**
 * End-to-end: the built UI (out/renderer, from `npx electron-vite build`) in Debian's Chromium against a
 * real `berth serve` with the real engine (DOCKER_HOST) and the embedded registry. No browser downloads.
 * tests/e2e/electron.spec.ts (the desktop app) belongs to its own project and skips without an Electron binary.
 */
import { defineConfig } from '@playwright/test';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export default defineConfig({
  testDir: 'tests/e2e',
  // One berth serve per test file; the shared engine is noisy, so files run one at a time.
  workers: 1,
  fullyParallel: false,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  reporter: [['list']],
  // Outside out/: a concurrent `electron-vite build` empties out/ and would take traces with it.
  outputDir: join(tmpdir(), 'berth-e2e-results'),
  use: {
    browserName: 'chromium',
    viewport: { width: 1280, height: 800 },
    colorScheme: 'light',
    launchOptions: {
      executablePath: process.env.BERTH_CHROMIUM ?? '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
    },
    trace: 'retain-on-failure',
  },
});

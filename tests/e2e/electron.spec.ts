/**
 * The desktop app itself, through Playwright's Electron driver: the built app (out/, `npx electron-vite
 * build`) starts, exposes exactly the contract as window.berth in a sandboxed, isolated page, answers
 * calls over IPC, and refuses navigation and new windows. It needs an Electron binary; where there is
 * none (no network when `npm install` ran electron's postinstall download) it says so and skips.
 * Note: `require('electron')` would try to download the binary; we only look for it.
 */
import { _electron as electron, expect, test, type ElectronApplication, type Page } from '@playwright/test';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../..', import.meta.url));

function findElectron(): { path?: string; reason?: string } {
  let pkgDir: string;
  try {
    pkgDir = dirname(createRequire(import.meta.url).resolve('electron/package.json'));
  } catch {
    return { reason: 'the electron package is not installed (npm install).' };
  }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) {
    return { reason: `${pathFile} is missing: electron's postinstall never downloaded its binary (no network at npm install?). Run \`npx install-electron\` where the network allows it.` };
  }
  const exe = join(process.env.ELECTRON_OVERRIDE_DIST_PATH ?? join(pkgDir, 'dist'), readFileSync(pathFile, 'utf8'));
  if (!existsSync(exe)) return { reason: `the Electron binary ${exe} does not exist.` };
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    return { reason: 'no display (DISPLAY/WAYLAND_DISPLAY unset); run the tests under xvfb-run.' };
  }
  if (!existsSync(join(root, 'out/main/index.js'))) return { reason: 'the app is not built; run `npx electron-vite build` first.' };
  return { path: exe };
}

const binary = findElectron();
// The list reporter does not show skip reasons; say it plainly in the output.
if (!binary.path) process.stderr.write(`electron.spec.ts skipped — No Electron binary here: ${binary.reason}\n`);

test.describe('desktop app (Electron)', () => {
  test.skip(!binary.path, `No Electron binary here: ${binary.reason}\n`);

  let app: ElectronApplication;
  let page: Page;
  let dataDir: string;

  test.beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'berth-electron-'));
    app = await electron.launch({
      executablePath: binary.path,
      // Chromium refuses to run as root with its own OS sandbox; the renderer's Electron sandbox stays on.
      args: [...(process.getuid?.() === 0 ? ['--no-sandbox'] : []), join(root, 'out/main/index.js')],
      env: { ...process.env, BERTH_DATA_DIR: dataDir, NODE_ENV: 'production' } as Record<string, string>,
    });
    page = await app.firstWindow();
    await page.waitForLoadState('domcontentloaded');
  });

  test.afterAll(async () => {
    await app?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  test('the window is sandboxed and isolated: window.berth is the only bridge', async () => {
    const shape = await page.evaluate(() => ({
      keys: Object.keys((window as unknown as { berth: object }).berth).sort(),
      require: typeof (window as unknown as { require?: unknown }).require,
      process: typeof (window as unknown as { process?: unknown }).process,
    }));
    expect(shape).toEqual({ keys: ['call', 'pathForFile', 'subscribe'], require: 'undefined', process: 'undefined' });
  });

  test('calls the backend over IPC with the contract envelope', async () => {
    const info = await page.evaluate(() => (window as unknown as { berth: { call(m: string, i: unknown): Promise<unknown> } }).berth.call('app.info', {}));
    expect(info).toMatchObject({ ok: true, result: { mode: 'desktop', dataDir } });
    const bad = await page.evaluate(() => (window as unknown as { berth: { call(m: string, i: unknown): Promise<unknown> } }).berth.call('images.inspect', { id: 7 }));
    expect(bad).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
  });

  test('refuses navigation away from the app and new windows', async () => {
    const before = page.url();
    await page.evaluate(() => {
      window.location.href = 'https://example.com/';
    });
    await page.waitForTimeout(500);
    expect(page.url()).toBe(before);
    expect(await page.evaluate(() => window.open('https://example.com/') === null)).toBe(true);
    expect(app.windows()).toHaveLength(1);
  });

  test('holds the data directory: the lock names the desktop app', async () => {
    const lock = JSON.parse(readFileSync(join(dataDir, 'berth.lock'), 'utf8')) as { mode: string; control?: string };
    expect(lock.mode).toBe('the Berth desktop app');
    expect(lock.control).toBeTruthy();
  });
});

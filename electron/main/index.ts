/**
 * The desktop app's main process: lifecycle and wiring only. The backend is the same one `berth serve`
 * runs (electron/app/backend.ts) on Electron's userData folder; the window reaches it over one IPC channel
 * (ipc.ts); the CLI reaches it over the control socket (electron/server/control.ts).
 */
import { app, BrowserWindow, dialog, ipcMain, nativeImage, safeStorage, type NativeImage } from 'electron';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createBackend, type Backend } from '../app/backend';
import { acquireDataDir, productName, type DataDirLock } from '../app/data-dir';
import { resolvePreparedExport } from '../archive/exports';
import { BerthError } from '../../shared/errors';
import { announceInstance } from '../server/control';
import type { RunningServer } from '../server/server';
import { registerDragOut } from './drag-out';
import { forwardEvents, registerIpc } from './ipc';
import { installMenu } from './menu';
import { isAppUrl } from './security';
import { electronSettingsStore } from './store';
import { appOrigin, createMainWindow, hardenContents, hardenSession } from './window';

// The folder the CLI's defaultDataDir() also picks (electron/app/data-dir.ts): <appData>/Berth, or BERTH_DATA_DIR.
app.setName(productName);
app.setPath('userData', process.env.BERTH_DATA_DIR ? resolve(process.env.BERTH_DATA_DIR) : join(app.getPath('appData'), productName));

const log = (line: string) => console.error(line);
let backend: Backend | undefined;
let control: RunningServer | undefined;
let dataLock: DataDirLock | undefined;
let window: BrowserWindow | undefined;

function showWindow(): void {
  if (!window || window.isDestroyed()) {
    window = createMainWindow();
    if (backend) forwardEvents((l) => backend!.services.events.subscribe(l), window.webContents);
  }
  if (window.isMinimized()) window.restore();
  window.focus();
}

async function startBackend(): Promise<void> {
  const dataDir = app.getPath('userData');
  dataLock = await acquireDataDir(dataDir, { mode: 'the Berth desktop app' });
  backend = createBackend({ mode: 'desktop', version: app.getVersion(), dataDir, store: electronSettingsStore(dataDir), log });
  // Both IPC channels answer the app's own page only.
  const isTrusted = (url: string) => isAppUrl(url, appOrigin);
  registerIpc({ ipcMain, dispatch: backend.dispatch, isTrusted, log });
  registerDragOut({ ipcMain, isTrusted, resolve: (id) => resolvePreparedExport(dataDir, id, { touch: true }), icon: dragIcon, log });
  await backend.start();
  control = await announceInstance(dataLock, backend, log);
  // Saved registry logins will be sealed with safeStorage (the OS keychain) when it is available.
  log(`safeStorage ${safeStorage.isEncryptionAvailable() ? 'available' : 'not available (logins would fall back to a key file)'}`);
}

// The app icon at a size a drag image should have (startDrag refuses an empty icon on macOS).
let dragImage: NativeImage | undefined;
function dragIcon(): NativeImage {
  dragImage ??= nativeImage.createFromPath(fileURLToPath(new URL('../../resources/icon.png', import.meta.url))).resize({ width: 64, height: 64 });
  return dragImage;
}

let stopping = false;
async function stop(): Promise<void> {
  await control?.close().catch(() => {});
  await backend?.close().catch((err: unknown) => log(`shutdown: ${String(err)}`));
  dataLock?.release();
}

if (!app.requestSingleInstanceLock()) {
  // Another window of Berth is open: it gets focus (second-instance below); this process leaves.
  app.quit();
} else {
  app.on('second-instance', () => showWindow());
  app.on('web-contents-created', (_e, contents) => hardenContents(contents));
  app.on('window-all-closed', () => {
    // macOS apps stay in the dock (the registry keeps serving); elsewhere closing the window quits.
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (app.isReady()) showWindow();
  });
  app.on('will-quit', (event) => {
    if (stopping) return;
    stopping = true;
    event.preventDefault();
    void stop().finally(() => app.exit(0));
  });

  void app.whenReady().then(async () => {
    hardenSession();
    installMenu();
    try {
      await startBackend();
    } catch (err) {
      dialog.showErrorBox('Berth cannot start', startFailureMessage(err));
      stopping = true;
      await stop();
      app.exit(1);
      return;
    }
    showWindow();
  });
}

/**
 * The lock's message speaks to CLI users ("use --data"); in the desktop app the way out is to stop the
 * other Berth (a `berth serve` or `berth registry` in a terminal), or open its URL instead.
 */
function startFailureMessage(err: unknown): string {
  if (err instanceof BerthError && err.code === 'LOCKED') {
    const detail = (err.detail ?? {}) as { mode?: string; pid?: number };
    return `Berth's data is in use by ${detail.mode ?? 'another Berth process'}${detail.pid ? ` (pid ${detail.pid})` : ''}. Stop it (Ctrl-C in its terminal) and start the app again, or keep using it in the browser.`;
  }
  return err instanceof Error ? err.message : String(err);
}

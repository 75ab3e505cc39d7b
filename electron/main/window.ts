/**
 * The app window and the rules every web contents obeys: sandboxed, isolated, no Node; a strict CSP;
 * navigation away from the app and new windows refused (a few documentation links open in the browser).
 */
import { app, BrowserWindow, session, shell, type WebContents } from 'electron';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { allowsPermission, isAllowedExternal, isAppUrl, secureWebPreferences, windowContentSecurityPolicy, type AppOrigin } from './security';

export const appOrigin: AppOrigin = {
  rendererDir: fileURLToPath(new URL('../renderer', import.meta.url)),
  // electron-vite dev sets this to its dev server; never trusted in a packaged app.
  devServerUrl: !app.isPackaged ? process.env.ELECTRON_RENDERER_URL : undefined,
};

export function hardenSession(): void {
  const csp = windowContentSecurityPolicy(appOrigin.devServerUrl);
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({ responseHeaders: { ...details.responseHeaders, 'Content-Security-Policy': [csp] } });
  });
  // No camera, notifications, geolocation, …: only clipboard writes from the app's own page (Copy buttons).
  session.defaultSession.setPermissionRequestHandler((contents, permission, callback) => callback(allowsPermission(permission, contents.getURL(), appOrigin)));
  session.defaultSession.setPermissionCheckHandler((contents, permission) => allowsPermission(permission, contents?.getURL() ?? '', appOrigin));
}

/** Applied to every web contents the app creates (app 'web-contents-created'). */
export function hardenContents(contents: WebContents): void {
  const refuseNavigation = (event: { preventDefault(): void }, url: string) => {
    if (!isAppUrl(url, appOrigin)) event.preventDefault();
  };
  contents.on('will-navigate', refuseNavigation);
  contents.on('will-redirect', refuseNavigation);
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isAllowedExternal(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}

export function createMainWindow(): BrowserWindow {
  const win = new BrowserWindow({
    width: 1280,
    height: 820,
    minWidth: 900,
    minHeight: 560,
    show: false,
    title: 'Berth',
    icon: fileURLToPath(new URL('../../resources/icon.png', import.meta.url)),
    webPreferences: secureWebPreferences(fileURLToPath(new URL('../preload/index.cjs', import.meta.url))),
  });
  win.once('ready-to-show', () => win.show());
  if (appOrigin.devServerUrl) void win.loadURL(appOrigin.devServerUrl);
  else void win.loadFile(join(appOrigin.rendererDir, 'index.html'));
  return win;
}

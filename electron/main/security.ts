/**
 * The window's security rules, as plain functions (no Electron import) so they are tested under Node:
 * which URLs are the app's own, and the CSP the window's pages get.
 */
import { isAbsolute, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface AppOrigin {
  /** out/renderer on disk (production, `npm start`). */
  rendererDir: string;
  /** The electron-vite dev server (`npm run dev`), when running in dev. */
  devServerUrl?: string;
}

/** True when `url` is a page of the app itself: a file under out/renderer, or the dev server's origin. */
export function isAppUrl(url: string, origin: AppOrigin): boolean {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return false;
  }
  if (parsed.protocol === 'file:') {
    // Compare filesystem paths, not hrefs: Electron's loadFile leaves characters such as [ ] ^ | unescaped
    // where pathToFileURL escapes them, so an install folder like "/opt/a[1]" would refuse every call.
    // URL parsing has already resolved ../, and relative() tells whether the page is inside the folder.
    let file: string;
    try {
      file = fileURLToPath(parsed);
    } catch {
      return false;
    }
    const rel = relative(resolve(origin.rendererDir), file);
    return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  }
  if (origin.devServerUrl) {
    try {
      return parsed.origin === new URL(origin.devServerUrl).origin;
    } catch {
      return false;
    }
  }
  return false;
}

/**
 * The CSP of the window. Production: the same strict policy `berth serve` sends. Dev: the dev server's
 * origin and its websocket (hot reload) and the inline preamble @vitejs/plugin-react injects.
 */
export function windowContentSecurityPolicy(devServerUrl?: string): string {
  if (!devServerUrl) return "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";
  const dev = new URL(devServerUrl);
  const ws = `ws://${dev.host}`;
  return `default-src 'self' ${dev.origin}; script-src 'self' ${dev.origin} 'unsafe-inline'; connect-src 'self' ${dev.origin} ${ws}; img-src 'self' data: ${dev.origin}; style-src 'self' 'unsafe-inline' ${dev.origin}; object-src 'none'; base-uri 'none'`;
}

/** Links the app may open in the system browser (documentation only); everything else is refused. */
const externalAllowList = [/^https:\/\/github\.com\//, /^https:\/\/docs\.docker\.com\//, /^https:\/\/opencontainers\.org\//];

export function isAllowedExternal(url: string): boolean {
  return externalAllowList.some((re) => re.test(url));
}

/** The web preferences of every app window: the renderer is a web page with no Node and no way around the preload. */
export function secureWebPreferences(preload: string) {
  return {
    preload,
    contextIsolation: true,
    sandbox: true,
    nodeIntegration: false,
    nodeIntegrationInWorker: false,
    nodeIntegrationInSubFrames: false,
    webSecurity: true,
    webviewTag: false,
    allowRunningInsecureContent: false,
    experimentalFeatures: false,
  } as const;
}

/**
 * The one permission the app's own page gets: writing text to the clipboard (the Copy buttons). Chromium
 * checks it before navigator.clipboard.writeText; everything else (camera, notifications, …) is refused.
 */
export function allowsPermission(permission: string, pageUrl: string, origin: AppOrigin): boolean {
  return permission === 'clipboard-sanitized-write' && isAppUrl(pageUrl, origin);
}

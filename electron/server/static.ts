/**
 * Serves the built UI (out/renderer) to the browser: files by extension with the right content type, any
 * other path falls back to index.html (the UI routes on the client). A strict CSP on every page.
 */
import { pipeline } from 'node:stream/promises';
import { createReadStream, statSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extname, join, normalize, sep } from 'node:path';

export const uiContentSecurityPolicy = "default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'";

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.jpg': 'image/jpeg',
  '.webp': 'image/webp',
  '.woff': 'font/woff',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

function fileAt(root: string, urlPath: string): string | undefined {
  let decoded: string;
  try {
    decoded = decodeURIComponent(urlPath);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const path = normalize(join(root, decoded));
  if (path !== root && !path.startsWith(root.endsWith(sep) ? root : root + sep)) return undefined; // ../ escapes
  try {
    return statSync(path).isFile() ? path : undefined;
  } catch {
    return undefined;
  }
}

export function serveStatic(root: string, req: IncomingMessage, res: ServerResponse, pathname: string): void {
  const asked = fileAt(root, pathname);
  // Paths with an extension that do not exist are real 404s (a missing script must not become HTML).
  const path = asked ?? (extname(pathname) === '' ? fileAt(root, '/index.html') : undefined);
  const headers: Record<string, string> = {
    'Content-Security-Policy': uiContentSecurityPolicy,
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'no-referrer',
  };
  if (!path) {
    res.writeHead(404, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(asked === undefined && extname(pathname) === '' ? 'The UI is not built: run `npm run build`.\n' : 'Not found\n');
    return;
  }
  const ext = extname(path);
  headers['Content-Type'] = contentTypes[ext] ?? 'application/octet-stream';
  headers['Content-Length'] = String(statSync(path).size);
  // Hashed assets never change; index.html must be re-read to pick up a new build.
  headers['Cache-Control'] = pathname.startsWith('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
  res.writeHead(200, headers);
  if (req.method === 'HEAD') {
    res.end();
    return;
  }
  // pipeline closes the file when the client goes away mid-download (pipe() would leak the descriptor).
  pipeline(createReadStream(path), res).catch(() => res.destroy());
}

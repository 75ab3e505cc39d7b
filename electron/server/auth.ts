/**
 * Who may call the bridge: whoever holds the per-run token, from a page the bridge itself served.
 * The token is 32 random bytes; it is compared in constant time. Host and Origin checks stop DNS
 * rebinding (a hostile page whose domain resolves to 127.0.0.1) and cross-site requests.
 */
import type { IncomingMessage } from 'node:http';
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import { isLoopback } from '../../shared/loopback';
import { tokenParam } from '../../shared/bridge';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Constant-time comparison; hashing first makes the lengths equal so the length leaks nothing either. */
export function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(token).digest();
  return timingSafeEqual(a, b);
}

/** The token of a request: `Authorization: Bearer …`, or `?token=` where no header can be set (EventSource). */
export function requestToken(req: IncomingMessage, url: URL): string | undefined {
  const auth = req.headers.authorization;
  if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
  return url.searchParams.get(tokenParam) ?? undefined;
}

export { isLoopback };

const isWildcard = (host: string) => host === '0.0.0.0' || host === '::' || host === '';

/**
 * The Host header values that name this server. For a loopback bind: the bound address and `localhost`
 * on the bound port. For a wildcard bind (the user chose to expose it) any host is accepted; the token
 * still guards every call. Undefined means: do not check (unix socket / named pipe).
 */
export function allowedHosts(boundHost: string, port: number): Set<string> | undefined {
  if (isWildcard(boundHost)) return undefined;
  const fmt = (h: string) => (isIP(h) === 6 ? `[${h}]:${port}` : `${h}:${port}`);
  const hosts = new Set([fmt(boundHost).toLowerCase()]);
  if (isLoopback(boundHost)) for (const h of ['localhost', '127.0.0.1', '::1']) hosts.add(fmt(h));
  return hosts;
}

export type RequestCheck = { ok: true } | { ok: false; status: number; message: string };

/** Host must name this server; an Origin, when the browser sends one, must be this server's own. */
export function checkHostAndOrigin(req: IncomingMessage, hosts: Set<string> | undefined): RequestCheck {
  const host = (req.headers.host ?? '').toLowerCase();
  if (hosts && !hosts.has(host)) {
    return { ok: false, status: 421, message: `Requests must be addressed to ${[...hosts][0]}; got Host "${host}".` };
  }
  const origin = req.headers.origin;
  if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
    return { ok: false, status: 403, message: `Cross-origin requests are refused (Origin ${origin}).` };
  }
  return { ok: true };
}

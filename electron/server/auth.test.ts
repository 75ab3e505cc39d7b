import { describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { allowedHosts, checkHostAndOrigin, isLoopback, newToken, tokenMatches } from './auth';

const req = (headers: Record<string, string>) => ({ headers }) as unknown as IncomingMessage;

describe('bridge auth', () => {
  it('makes 256-bit url-safe tokens and compares them exactly', () => {
    const t = newToken();
    expect(t).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(newToken()).not.toBe(t);
    expect(tokenMatches(t, t)).toBe(true);
    expect(tokenMatches(t.slice(0, -1), t)).toBe(false);
    expect(tokenMatches(`${t}x`, t)).toBe(false);
    expect(tokenMatches(undefined, t)).toBe(false);
    expect(tokenMatches('', t)).toBe(false);
  });

  it('knows loopback addresses', () => {
    for (const h of ['127.0.0.1', '127.1.2.3', 'localhost', '::1', '[::1]']) expect(isLoopback(h), h).toBe(true);
    for (const h of ['0.0.0.0', '192.168.1.4', '::', 'example.com', '128.0.0.1']) expect(isLoopback(h), h).toBe(false);
  });

  it('accepts the Host names of a loopback bind, any Host for a wildcard bind (the token still guards)', () => {
    expect(allowedHosts('127.0.0.1', 7780)).toEqual(new Set(['127.0.0.1:7780', 'localhost:7780', '[::1]:7780']));
    expect(allowedHosts('::1', 7780)).toEqual(new Set(['[::1]:7780', 'localhost:7780', '127.0.0.1:7780']));
    expect(allowedHosts('192.168.1.4', 7780)).toEqual(new Set(['192.168.1.4:7780']));
    expect(allowedHosts('0.0.0.0', 7780)).toBeUndefined();
  });

  it('checks Host, then Origin against the Host', () => {
    const hosts = allowedHosts('127.0.0.1', 7780);
    expect(checkHostAndOrigin(req({ host: '127.0.0.1:7780' }), hosts)).toEqual({ ok: true });
    expect(checkHostAndOrigin(req({ host: 'LOCALHOST:7780', origin: 'http://LOCALHOST:7780' }), hosts)).toEqual({ ok: true });
    expect(checkHostAndOrigin(req({ host: 'attacker.example:7780' }), hosts)).toMatchObject({ ok: false, status: 421 });
    expect(checkHostAndOrigin(req({}), hosts)).toMatchObject({ ok: false, status: 421 });
    expect(checkHostAndOrigin(req({ host: '127.0.0.1:7780', origin: 'http://localhost:7780' }), hosts)).toMatchObject({ ok: false, status: 403 });
    expect(checkHostAndOrigin(req({ host: '127.0.0.1:7780', origin: 'null' }), hosts)).toMatchObject({ ok: false, status: 403 });
    expect(checkHostAndOrigin(req({ host: 'anything', origin: 'http://evil.example' }), undefined)).toMatchObject({ ok: false, status: 403 });
  });
});

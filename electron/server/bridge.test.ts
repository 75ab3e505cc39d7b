import { afterEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { methodNames } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import type { BerthEvent } from '../../shared/events';
import type { Dispatch } from '../app/dispatch';
import { EventBus } from '../app/events';
import { newToken } from './auth';
import { createBridgeClient } from './client';
import { startBridgeServer, startControlServer, type BridgeTarget, type RunningServer } from './server';
import { resolveUpload, uploadPath, uploadsDir } from './uploads';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Fixture {
  server: RunningServer;
  base: string;
  token: string;
  calls: Array<{ method: string; input: unknown; transport: string }>;
  events: EventBus;
  dataDir: string;
  uiRoot: string;
}

/** A bridge in front of a recording dispatch: shows what reaches the backend, for any method name. */
async function startFixture(opts: { heartbeatMs?: number } = {}): Promise<Fixture> {
  const dataDir = mkdtempSync(join(tmpdir(), 'berth-bridge-'));
  cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
  const uiRoot = join(dataDir, 'ui');
  mkdirSync(join(uiRoot, 'assets'), { recursive: true });
  writeFileSync(join(uiRoot, 'index.html'), '<!doctype html><title>Berth</title>');
  writeFileSync(join(uiRoot, 'assets', 'app-1234.js'), 'console.log(1)');
  writeFileSync(join(dataDir, 'secret.txt'), 'do not serve');
  const calls: Fixture['calls'] = [];
  const dispatch: Dispatch = async (method, input, ctx) => {
    calls.push({ method, input, transport: ctx.transport });
    if (method === 'fail.please') return { ok: false, error: { code: 'NOT_FOUND', message: 'nothing here', detail: { x: 1 } } };
    return { ok: true, result: { echo: method } };
  };
  const events = new EventBus();
  const target: BridgeTarget = { dispatch, subscribe: (l) => events.subscribe(l), dataDir };
  const token = newToken();
  const server = await startBridgeServer({ target, token, host: '127.0.0.1', port: 0, uiRoot, heartbeatMs: opts.heartbeatMs });
  cleanups.push(() => server.close());
  return { server, base: server.address, token, calls, events, dataDir, uiRoot };
}

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

function raw(url: string, init: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: init.method ?? 'GET', headers: init.headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks).toString() }));
    });
    req.on('error', reject);
    req.end(init.body);
  });
}

const bearer = (token: string) => ({ Authorization: `Bearer ${token}` });

describe('HTTP bridge: the contract, derived', () => {
  it('reaches every method of the contract through one route, with no per-method code', async () => {
    const f = await startFixture();
    const client = createBridgeClient({ url: f.base, token: f.token });
    for (const name of methodNames) {
      await expect(client.api[name]({} as never)).resolves.toEqual({ echo: name });
    }
    expect(f.calls.map((c) => c.method)).toEqual(methodNames);
    expect(new Set(f.calls.map((c) => c.transport))).toEqual(new Set(['http']));
  });

  it('passes a method the contract does not know yet straight to dispatch (a new method needs no bridge change)', async () => {
    const f = await startFixture();
    const res = await raw(`${f.base}/api/call/areaNotWrittenYet.doThing`, { method: 'POST', headers: bearer(f.token), body: '{"a":1}' });
    expect(res.status).toBe(200);
    expect(f.calls.at(-1)).toEqual({ method: 'areaNotWrittenYet.doThing', input: { a: 1 }, transport: 'http' });
  });

  it('carries errors in the envelope; the client turns them back into BerthError', async () => {
    const f = await startFixture();
    const client = createBridgeClient({ url: f.base, token: f.token });
    const err = await client.call('fail.please', {}).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(BerthError);
    expect(err).toMatchObject({ code: 'NOT_FOUND', message: 'nothing here', detail: { x: 1 } });
  });

  it('answers bad JSON with INVALID_INPUT and an empty body as {}', async () => {
    const f = await startFixture();
    const bad = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: bearer(f.token), body: '{nope' });
    expect(bad.status).toBe(400);
    expect(JSON.parse(bad.body)).toMatchObject({ ok: false, error: { code: 'INVALID_INPUT' } });
    await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: bearer(f.token) });
    expect(f.calls.at(-1)?.input).toEqual({});
    const get = await raw(`${f.base}/api/call/app.info`, { headers: bearer(f.token) });
    expect(get.status).toBe(405);
  });
});

describe('HTTP bridge: who may call', () => {
  it('requires the token on every /api request: 401 + UNAUTHORIZED envelope without it', async () => {
    const f = await startFixture();
    for (const [path, method] of [['/api/call/app.info', 'POST'], ['/api/events', 'GET'], ['/api/uploads', 'PUT']] as const) {
      const res = await raw(`${f.base}${path}`, { method });
      expect(res.status, path).toBe(401);
      expect(JSON.parse(res.body)).toMatchObject({ ok: false, error: { code: 'UNAUTHORIZED' } });
    }
    const wrong = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: bearer(f.token.slice(0, -1) + 'x') });
    expect(wrong.status).toBe(401);
    expect(f.calls).toHaveLength(0);
    const viaQuery = await raw(`${f.base}/api/call/app.info?token=${f.token}`, { method: 'POST' });
    expect(viaQuery.status).toBe(200);
  });

  it('refuses a Host that is not this server (DNS rebinding)', async () => {
    const f = await startFixture();
    const port = new URL(f.base).port;
    const evil = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: { ...bearer(f.token), Host: `evil.example:${port}` } });
    expect(evil.status).toBe(421);
    const page = await raw(`${f.base}/`, { headers: { Host: `evil.example:${port}` } });
    expect(page.status).toBe(421);
    const localhost = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: { ...bearer(f.token), Host: `localhost:${port}` } });
    expect(localhost.status).toBe(200);
  });

  it('refuses cross-origin requests and accepts its own origin', async () => {
    const f = await startFixture();
    const cross = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: { ...bearer(f.token), Origin: 'http://evil.example' } });
    expect(cross.status).toBe(403);
    const same = await raw(`${f.base}/api/call/app.info`, { method: 'POST', headers: { ...bearer(f.token), Origin: f.base } });
    expect(same.status).toBe(200);
  });
});

describe('HTTP bridge: events', () => {
  it('delivers backend events as server-sent events and unsubscribes when the client goes away', async () => {
    const f = await startFixture();
    let listeners = 0;
    const subscribe = f.events.subscribe.bind(f.events);
    f.events.subscribe = (l) => {
      listeners++;
      const off = subscribe(l);
      return () => {
        listeners--;
        return off();
      };
    };
    const client = createBridgeClient({ url: f.base, token: f.token });
    const got: BerthEvent[] = [];
    const off = await client.subscribe((e) => got.push(e));
    expect(listeners).toBe(1);
    f.events.publish({ type: 'registry.changed', repository: 'alpine' });
    f.events.publish({ type: 'engine.images-changed' });
    await expect.poll(() => got.length).toBe(2);
    expect(got).toEqual([{ type: 'registry.changed', repository: 'alpine' }, { type: 'engine.images-changed' }]);
    off();
    await expect.poll(() => listeners).toBe(0);
  });

  it('sends the stream headers and the first comment at once', async () => {
    const f = await startFixture();
    const first = await new Promise<{ type?: string; chunk: string }>((resolve, reject) => {
      const req = request(`${f.base}/api/events?token=${f.token}`, (res) => {
        res.once('data', (c: Buffer) => {
          resolve({ type: res.headers['content-type'], chunk: c.toString() });
          req.destroy();
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(first.type).toMatch(/^text\/event-stream/);
    expect(first.chunk).toContain(': connected');
  });
});

describe('HTTP bridge: event stream lifetime', () => {
  it('sends heartbeats on an idle stream', async () => {
    const f = await startFixture({ heartbeatMs: 50 });
    const text = await new Promise<string>((resolve, reject) => {
      let got = '';
      const req = request(`${f.base}/api/events?token=${f.token}`, (res) => {
        res.on('data', (c: Buffer) => {
          got += c.toString();
          if (got.split(': ping').length > 2) {
            req.destroy();
            resolve(got);
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    expect(text).toContain(': ping\n\n');
  });

  it('closes promptly while event streams are open (shutdown never hangs on a browser tab)', async () => {
    const f = await startFixture();
    const client = createBridgeClient({ url: f.base, token: f.token });
    await client.subscribe(() => {});
    await client.subscribe(() => {});
    const t0 = Date.now();
    await f.server.close();
    expect(Date.now() - t0).toBeLessThan(2000);
  });
});

describe('HTTP bridge: uploads', () => {
  it('streams an upload to uploads-bridge/<uuid> and hands out its id', async () => {
    const f = await startFixture();
    const body = randomBytes(3 * 1024 * 1024 + 17);
    const res = await raw(`${f.base}/api/uploads?name=app.tar`, { method: 'PUT', headers: bearer(f.token), body });
    expect(res.status).toBe(200);
    const env = JSON.parse(res.body) as { ok: true; result: { uploadId: string; size: number } };
    expect(env.result.size).toBe(body.length);
    const path = resolveUpload(f.dataDir, env.result.uploadId);
    expect(path).toBe(join(uploadsDir(f.dataDir), env.result.uploadId));
    expect(createHash('sha256').update(readFileSync(path)).digest('hex')).toBe(createHash('sha256').update(body).digest('hex'));
  });

  it('drops an upload that ends before its Content-Length; nothing half-written stays', async () => {
    const f = await startFixture();
    const { port } = new URL(f.base);
    await new Promise<void>((resolve) => {
      const sock = connect(Number(port), '127.0.0.1', () => {
        sock.write(`PUT /api/uploads HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nAuthorization: Bearer ${f.token}\r\nContent-Length: 100000\r\n\r\n`);
        sock.write(Buffer.alloc(5000));
        setTimeout(() => sock.destroy(), 100);
      });
      sock.on('close', () => resolve());
    });
    await expect.poll(() => (existsSync(uploadsDir(f.dataDir)) ? readdirSync(uploadsDir(f.dataDir)) : [])).toEqual([]);
  });

  it('accepts only uuids as upload ids', () => {
    expect(() => uploadPath('/data', '../../etc/passwd')).toThrow(/not an upload id/);
    expect(() => resolveUpload('/data', '0b6c7f4e-2a9e-4c51-9d0a-3c2f1b8e7a65')).toThrow(/No uploaded file/);
  });
});

describe('HTTP bridge: the UI', () => {
  it('serves the built UI with a strict CSP, falls back to index.html for client routes, 404s missing assets', async () => {
    const f = await startFixture();
    const index = await raw(`${f.base}/`);
    expect(index.status).toBe(200);
    expect(index.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(index.headers['content-security-policy']).toBe("default-src 'self'; connect-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'");
    expect((await raw(`${f.base}/registry/alpine`)).body).toContain('<title>Berth</title>');
    const js = await raw(`${f.base}/assets/app-1234.js`);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect((await raw(`${f.base}/assets/missing.js`)).status).toBe(404);
    const escape = await raw(`${f.base}/..%2fsecret.txt`);
    expect(escape.body).not.toContain('do not serve');
  });
});

describe('control socket', () => {
  it('serves the API (token required, no UI) on a unix socket with mode 0600', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'berth-control-'));
    cleanups.push(() => rmSync(dataDir, { recursive: true, force: true }));
    const calls: string[] = [];
    const events = new EventBus();
    const token = newToken();
    const path = join(dataDir, 'berth.sock');
    const server = await startControlServer({
      target: { dispatch: async (m) => (calls.push(m), { ok: true, result: 42 }), subscribe: (l) => events.subscribe(l), dataDir },
      token,
      path,
    });
    cleanups.push(() => server.close());
    const { statSync } = await import('node:fs');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    await expect(createBridgeClient({ socketPath: path, token }).api['jobs.list']({})).resolves.toBe(42);
    await expect(createBridgeClient({ socketPath: path, token: 'wrong' }).api['jobs.list']({})).rejects.toMatchObject({ code: 'UNAUTHORIZED' });
    expect(calls).toEqual(['jobs.list']);
    await server.close();
    expect(existsSync(path)).toBe(false);
  });
});

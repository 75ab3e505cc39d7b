import { mkdtempSync, rmSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../app/events';
import type { EngineStatus } from '../../shared/api/engine';
import type { BerthEvent } from '../../shared/events';
import { connectionHint, describeConnectionError, EngineService } from './service';
import { rejection, useDockerContext, waitFor } from './itest-helpers';

let dir: string;
let events: BerthEvent[];
let service: EngineService;
let server: Server | undefined;

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'berth-engine-unit-'));
  events = [];
  const bus = new EventBus();
  bus.subscribe((e) => events.push(e));
  // Nothing listens at this socket: every call that reached the engine would fail with ENGINE_UNAVAILABLE.
  service = new EngineService({ events: bus, log: () => {}, dockerHost: `unix://${join(dir, 'docker.sock')}`, pingTimeoutMs: 500 });
});
const sockets = new Set<import('node:net').Socket>();
afterEach(async () => {
  service.close();
  const s = server;
  server = undefined;
  for (const c of sockets) c.destroy();
  sockets.clear();
  if (s) await new Promise<void>((r) => s.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

describe('EngineService without an engine', () => {
  it('refuses an invalid tag before it connects: INVALID_INPUT with the reason, not ENGINE_UNAVAILABLE', async () => {
    const err = await rejection(service.tagImage('sha256:' + 'a'.repeat(64), 'app:' + 'x'.repeat(129)));
    expect(err.code).toBe('INVALID_INPUT');
    expect(err.message).toMatch(/Tags may contain at most 128 characters/);
    expect(service.status().tried).toBeUndefined(); // never tried to connect
  });

  it('refuses an image name that is not an id or reference before it reaches a URL', async () => {
    for (const bad of ['../../containers/json', 'app?force=1', 'UPPER']) {
      expect((await rejection(service.inspectImage(bad))).code).toBe('INVALID_INPUT');
      expect((await rejection(service.removeImage(bad, true))).code).toBe('INVALID_INPUT');
    }
  });

  it('reports a missing engine with a hint and publishes engine.status', async () => {
    const status = await service.getStatus();
    expect(status).toMatchObject({ connected: false, error: 'No container engine answered.' });
    expect(status.tried?.[0].error).toBe('no socket there');
    expect(events).toContainEqual({ type: 'engine.status', status });
    const err = await rejection(service.listImages());
    expect(err.code).toBe('ENGINE_UNAVAILABLE');
    expect(err.detail).toEqual({ tried: status.tried });
  });

  it('does not mistake something else listening on the socket for an engine', async () => {
    const sock = join(dir, 'docker.sock');
    server = createServer((c) => {
      sockets.add(c);
      c.end('HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n');
    });
    await new Promise<void>((r) => server!.listen(sock, r));
    const status = await service.getStatus(true);
    expect(status.connected).toBe(false);
    expect(status.tried?.[0].error).toMatch(/HTTP 404, which is not a Docker API/);
  });
});

describe('connection errors and hints', () => {
  it.each([
    [{ code: 'ENOENT' }, 'no socket there'],
    [{ code: 'ECONNREFUSED' }, 'connection refused: nothing is listening'],
    [{ code: 'EACCES' }, 'permission denied'],
    [{ name: 'TimeoutError', message: 'x' }, 'no answer within 3 s'],
  ])('%o → %s', (err, text) => expect(describeConnectionError(err, 3000)).toBe(text));

  it('tells a Linux user without access to the socket to join the docker group', () => {
    const hint = connectionHint([{ kind: 'unix', address: '/var/run/docker.sock', source: 'default', error: 'permission denied' }], 'linux');
    expect(hint).toMatch(/usermod -aG docker/);
  });

  it('names the desktop engines to start on macOS and lists what was tried', () => {
    const hint = connectionHint([{ kind: 'unix', address: '/Users/me/.docker/run/docker.sock', source: 'docker-desktop', error: 'no socket there' }], 'darwin');
    expect(hint).toMatch(/^Start Docker Desktop \(or Colima/);
    expect(hint).toContain('Tried: /Users/me/.docker/run/docker.sock (no socket there).');
  });
});

/**
 * Just enough of the Engine API on a unix socket for the connection logic: /_ping (answers 500 while
 * `healthy` is false), /version, and an /events stream held open. Records when each /_ping came.
 */
function fakeEngine(path: string, name: string): { pings: number[]; healthy: boolean; hung: boolean; close(): Promise<void> } {
  const state = { pings: [] as number[], healthy: true, hung: false, close: async () => {} };
  const open = new Set<import('node:net').Socket>();
  const http: HttpServer = createHttpServer((req, res) => {
    if (req.url?.endsWith('/_ping')) {
      state.pings.push(Date.now());
      if (state.hung) return; // a vanished remote engine: the connection stays, no answer comes
      res.writeHead(state.healthy ? 200 : 500).end(state.healthy ? 'OK' : 'down');
    } else if (req.url?.includes('/version')) {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ Version: name, ApiVersion: '1.41', Os: 'linux', Arch: 'amd64' }));
    } else if (req.url?.includes('/events')) {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.flushHeaders();
    } else res.writeHead(404).end();
  });
  http.on('connection', (c) => {
    open.add(c);
    c.on('close', () => open.delete(c));
  });
  http.listen(path);
  state.close = () => {
    for (const c of open) c.destroy();
    return new Promise<void>((r) => http.close(() => r()));
  };
  return state;
}

describe('switching back to the engine the user named', () => {
  const engines: Array<{ close(): Promise<void> }> = [];
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.close();
  });

  /** DOCKER_HOST names an engine that is down (answers 500); the current docker context's engine is up. */
  function namedAndFallback(bus: EventBus) {
    const namedSock = join(dir, 'named.sock');
    const fallbackSock = join(dir, 'fallback.sock');
    const named = fakeEngine(namedSock, 'named');
    const fallback = fakeEngine(fallbackSock, 'fallback');
    engines.push(named, fallback);
    named.healthy = false;
    const home = join(dir, 'home');
    useDockerContext(home, 'fb', `unix://${fallbackSock}`);
    service.close();
    service = new EngineService({
      events: bus,
      log: () => {},
      discovery: { env: { DOCKER_HOST: `unix://${namedSock}` }, home, platform: 'linux' },
      preferredProbe: { minMs: 100, maxMs: 400 },
      pingTimeoutMs: 500,
    });
    return { named, fallback, namedSock, fallbackSock };
  }

  it('pings DOCKER_HOST with backoff only while on the fallback, and switches back when it answers', async () => {
    const bus = new EventBus();
    const statuses: EngineStatus[] = [];
    bus.subscribe((e) => e.type === 'engine.status' && statuses.push(e.status));
    const { named, fallback, namedSock, fallbackSock } = namedAndFallback(bus);
    service.watch();
    await waitFor(() => statuses.find((s) => s.endpoint?.address === fallbackSock), 3000, 'the fallback');
    expect(service.status().warning).toMatch(/^DOCKER_HOST .* did not answer.* Berth switches back as soon as it answers\.$/);

    // Probes back off: the gaps between pings of the named endpoint grow to the cap, never beyond.
    await waitFor(() => named.pings.length >= 6, 5000, 'six probes of DOCKER_HOST');
    const gaps = named.pings.slice(1).map((t, i) => t - named.pings[i]);
    expect(gaps[gaps.length - 1]).toBeGreaterThan(gaps[0] + 150);
    expect(Math.max(...gaps)).toBeLessThan(400 + 300);

    named.healthy = true;
    const back = await waitFor(() => statuses.find((s) => s.endpoint?.address === namedSock), 3000, 'the switch back');
    expect(back).toMatchObject({ connected: true, version: 'named', endpoint: { source: 'DOCKER_HOST' } });
    expect(back.warning).toBeUndefined();

    // On the named engine there is nothing to switch back to: no more probes anywhere.
    const [namedPings, fallbackPings] = [named.pings.length, fallback.pings.length];
    await new Promise((r) => setTimeout(r, 1000));
    expect(named.pings.length).toBe(namedPings);
    expect(fallback.pings.length).toBe(fallbackPings);
  });

  it('promises no switch back from a DOCKER_HOST that is not an address at all', async () => {
    const fallbackSock = join(dir, 'fallback.sock');
    engines.push(fakeEngine(fallbackSock, 'fallback'));
    useDockerContext(join(dir, 'home'), 'fb', `unix://${fallbackSock}`);
    const bus = new EventBus();
    const statuses: EngineStatus[] = [];
    bus.subscribe((e) => e.type === 'engine.status' && statuses.push(e.status));
    service.close();
    service = new EngineService({ events: bus, log: () => {}, discovery: { env: { DOCKER_HOST: 'ftp://nope' }, home: join(dir, 'home'), platform: 'linux' } });
    service.watch();
    const status = await waitFor(() => statuses.find((s) => s.connected), 3000, 'the fallback');
    expect(status.warning).toMatch(/^DOCKER_HOST \(ftp:\/\/nope\) did not answer — .*instead: images you change here are on that engine\.$/);
  });

  it('does not probe when nothing is watched (the CLI connects once per command)', async () => {
    const { named, fallbackSock } = namedAndFallback(new EventBus());
    const status = await service.getStatus();
    expect(status).toMatchObject({ connected: true, endpoint: { address: fallbackSock } });
    expect(status.warning).toMatch(/instead: images you change here are on that engine\.$/); // no promise to switch back
    await new Promise((r) => setTimeout(r, 500));
    expect(named.pings.length).toBe(1); // the connect itself, nothing after
  });
});

describe('heartbeat', () => {
  it('notices an engine that stops answering while its event stream stays open, and says so', async () => {
    const sock = join(dir, 'engine.sock');
    const engine = fakeEngine(sock, 'remote');
    const bus = new EventBus();
    const statuses: EngineStatus[] = [];
    bus.subscribe((e) => e.type === 'engine.status' && statuses.push(e.status));
    service.close();
    service = new EngineService({ events: bus, log: () => {}, dockerHost: `unix://${sock}`, heartbeatMs: 100, pingTimeoutMs: 300, retry: { minMs: 100, maxMs: 200 } });
    try {
      service.watch();
      await waitFor(() => statuses.find((s) => s.connected), 3000, 'connected');
      engine.hung = true;
      const down = await waitFor(() => statuses.find((s) => !s.connected), 3000, 'the status saying not connected');
      expect(down.tried?.[0].error).toBe('no answer within 0 s');
      engine.hung = false;
      await waitFor(() => statuses.filter((s) => s.connected).length === 2, 3000, 'connected again');
    } finally {
      service.close();
      await engine.close();
    }
  });
});

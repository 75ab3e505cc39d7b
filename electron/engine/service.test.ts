import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EventBus } from '../app/events';
import type { BerthEvent } from '../../shared/events';
import { connectionHint, describeConnectionError, EngineService } from './service';
import { rejection } from './itest-helpers';

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

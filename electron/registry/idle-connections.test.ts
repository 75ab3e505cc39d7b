import { createServer, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dropIdleConnections } from './idle-connections';

let server: Server | undefined;
let stop: (() => void) | undefined;
afterEach(async () => {
  stop?.();
  await new Promise<void>((r) => (server ? server.close(() => r()) : r()));
  server = undefined;
});

/** A server that reads request bodies forever and never answers: only the idle sweep can end a connection. */
async function start(idleMs: number): Promise<number> {
  server = createServer((req) => req.resume());
  server.requestTimeout = 0;
  stop = dropIdleConnections(server, idleMs);
  await new Promise<void>((r) => server!.listen(0, '127.0.0.1', () => r()));
  return (server.address() as { port: number }).port;
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1', () => resolve(s));
  });
}
const closed = (s: Socket) => new Promise<number>((r) => s.once('close', () => r(Date.now())));

describe('dropIdleConnections', () => {
  it('drops a connection that stops sending in the middle of a body', async () => {
    const port = await start(300);
    const s = await open(port);
    s.write('PATCH /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\nabc');
    const t0 = Date.now();
    const at = await closed(s);
    expect(at - t0).toBeGreaterThanOrEqual(250);
    expect(at - t0).toBeLessThan(3000);
  });

  it('keeps a slow connection that still sends bytes', async () => {
    const port = await start(300);
    const s = await open(port);
    s.write('PATCH /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1000000\r\n\r\n');
    let dropped = false;
    s.once('close', () => (dropped = true));
    // 1.2 s of trickle, one byte every 100 ms: four idle periods, never idle for one.
    for (let i = 0; i < 12; i++) {
      await new Promise((r) => setTimeout(r, 100));
      s.write('x');
    }
    expect(dropped).toBe(false);
    s.destroy();
  });
});

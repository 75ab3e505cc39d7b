/**
 * Listening: the bridge on TCP for a browser (`berth serve`), and the control bridge on a unix socket or
 * named pipe that every running instance serves so the CLI can hand it work (electron/cli/instance.ts).
 */
import { createServer, type Server } from 'node:http';
import { chmodSync, rmSync } from 'node:fs';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { BerthError } from '../../shared/errors';
import type { Dispatch } from '../app/dispatch';
import { allowedHosts, isLoopback } from './auth';
import { createBridgeHandler, type BridgeHandler } from './bridge';
import type { Subscribe } from './sse';
import { removeOldUploads } from './uploads';

export interface BridgeTarget {
  dispatch: Dispatch;
  subscribe: Subscribe;
  dataDir: string;
}

export interface RunningServer {
  /** 'http://127.0.0.1:7780' for TCP; the socket path or pipe name for the control bridge. */
  address: string;
  port?: number;
  close(): Promise<void>;
}

function closeServer(server: Server, handler: BridgeHandler): Promise<void> {
  handler.closeStreams();
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** A port near `port` that is free on `host` right now (for the "port in use" message). */
export async function findFreePort(host: string, port: number): Promise<number> {
  for (let candidate = port + 1; candidate < Math.min(port + 50, 65536); candidate++) {
    if (await canListen(host, candidate)) return candidate;
  }
  return listenOnce(host, 0);
}

function listenOnce(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createNetServer();
    probe.once('error', reject);
    probe.listen({ host, port, exclusive: true }, () => {
      const { port: got } = probe.address() as AddressInfo;
      probe.close(() => resolve(got));
    });
  });
}

const canListen = (host: string, port: number) => listenOnce(host, port).then(() => true, () => false);

async function portInUse(host: string, port: number, what: string): Promise<BerthError> {
  const free = await findFreePort(host, port).catch(() => undefined);
  return new BerthError(
    'PORT_IN_USE',
    `Port ${port} on ${host} is already in use, so ${what} cannot listen there.${free ? ` Port ${free} is free: try --port ${free}.` : ''}`,
    { host, port, suggestedPort: free },
  );
}

export async function startBridgeServer(opts: {
  target: BridgeTarget;
  token: string;
  host: string;
  port: number;
  uiRoot?: string;
  log?: (line: string) => void;
  heartbeatMs?: number;
}): Promise<RunningServer> {
  const log = opts.log ?? (() => {});
  if (!isLoopback(opts.host)) log(`warning: the bridge listens on ${opts.host}, reachable from other machines; only the token protects it.`);
  removeOldUploads(opts.target.dataDir);
  // The allowed Host values depend on the port, known only once listening (--port 0).
  const bound: { hosts?: Set<string> } = {};
  const handler = createBridgeHandler({
    dispatch: opts.target.dispatch,
    subscribe: opts.target.subscribe,
    dataDir: opts.target.dataDir,
    token: opts.token,
    get hosts() {
      return bound.hosts;
    },
    uiRoot: opts.uiRoot,
    log,
    heartbeatMs: opts.heartbeatMs,
  });
  const server = createServer(handler);
  // Uploads of many gigabytes take long; the default request timeout (5 min) would cut them off.
  server.requestTimeout = 0;
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      if (err.code === 'EADDRINUSE' || err.code === 'EACCES') portInUse(opts.host, opts.port, 'the Berth bridge').then(reject, reject);
      else reject(err);
    });
    server.listen({ host: opts.host, port: opts.port, exclusive: true }, () => resolve((server.address() as AddressInfo).port));
  });
  bound.hosts = allowedHosts(opts.host, port);
  const shownHost = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  return { address: `http://${shownHost}:${port}`, port, close: () => closeServer(server, handler) };
}

/**
 * The control bridge: API only, no Host checks (no browser reaches a unix socket), the token still
 * required. The socket is mode 0600. The caller holds the data directory's lock, so a socket file that is
 * already there was left by a process that died: remove it.
 */
export async function startControlServer(opts: { target: BridgeTarget; token: string; path: string; log?: (line: string) => void }): Promise<RunningServer> {
  const handler = createBridgeHandler({
    dispatch: opts.target.dispatch,
    subscribe: opts.target.subscribe,
    dataDir: opts.target.dataDir,
    token: opts.token,
    hosts: undefined,
    log: opts.log,
  });
  const server = createServer(handler);
  server.requestTimeout = 0;
  const isPipe = opts.path.startsWith('\\\\.\\pipe\\');
  if (!isPipe) rmSync(opts.path, { force: true });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ path: opts.path, readableAll: false, writableAll: false }, () => resolve());
  });
  if (!isPipe) chmodSync(opts.path, 0o600);
  return {
    address: opts.path,
    async close() {
      await closeServer(server, handler);
      if (!isPipe) rmSync(opts.path, { force: true });
    },
  };
}

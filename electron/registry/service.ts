/**
 * The embedded registry as a service: owns the store and the HTTP listeners, starts and stops them, and
 * tells the UI (registry.status, registry.changed events). The desktop app, `berth serve` and
 * `berth registry` all run it through the backend.
 *
 * Binding: 127.0.0.1 also binds ::1 on the same port when the machine has IPv6, because `localhost` may
 * resolve to either; a port that is taken gives a clear error with a free port to try instead.
 */
import { isLoopback } from '../../shared/loopback';
import { createServer, type Server as HttpServer } from 'node:http';
import type { Server as NetServer } from 'node:net';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import type { RegistryStatus } from '../../shared/api/registry';
import { BerthError } from '../../shared/errors';
import type { EventBus } from '../app/events';
import { createRegistryHandler } from './http';
import { frontFor } from './body-front';
import { dropIdleConnections } from './idle-connections';
import { Mutex } from './mutex';
import { closingErrorResponse } from './errors';
import { RegistryStore } from './store';
import { DEFAULT_UPLOAD_EXPIRY_MS } from './uploads';

export interface RegistryServiceOptions {
  dataDir: string;
  events: EventBus;
  log: (line: string) => void;
}

const DEFAULT_HOST = '127.0.0.1';
const DEFAULT_PORT = 5000;
/** How often abandoned upload sessions are looked for (they expire after 24 h idle). */
const UPLOAD_SWEEP_EVERY_MS = 60 * 60 * 1000;
/** registry.changed is coalesced: a push of 500 manifests should not make the UI re-read 1,000 times. */
const CHANGE_EVENT_DELAY_MS = 250;
/** A connection with no traffic either way for this long belongs to a client that vanished. */
const IDLE_CONNECTION_MS = 10 * 60_000;

/** Addresses a client reaches by typing `localhost` (what the status shows them to type). */
const reachedAsLocalhost = (host: string) => host === '127.0.0.1' || host === 'localhost' || host === '::1';

/** What a client types to reach the registry: docker treats localhost and 127.0.0.0/8 as plain-HTTP-allowed. */
function clientAddress(host: string, port: number): string {
  if (reachedAsLocalhost(host) || host === '0.0.0.0' || host === '::') return `localhost:${port}`;
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** One listening address: the front accepts and reads (body-front.ts), the http.Server parses heads and answers. */
interface Listener {
  front: NetServer;
  http: HttpServer;
}

function listen(server: NetServer, host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (err: Error) => {
      server.off('listening', onListening);
      reject(err);
    };
    const onListening = () => {
      server.off('error', onError);
      const addr = server.address();
      resolve(typeof addr === 'object' && addr ? addr.port : port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    server.listen({ host, port, exclusive: true });
  });
}

function closeListener({ front, http }: Listener): Promise<void> {
  return new Promise((resolve) => {
    front.close(() => resolve());
    // Idle keep-alive sockets would hold close() open; in-flight requests get a moment to finish.
    http.close(); // never listened itself: this closes idle connections and stops its timeout checks
    setTimeout(() => http.closeAllConnections(), 2000).unref();
  });
}

/**
 * Node's HTTP parser rejects some requests before our handler can answer: most usefully a body that
 * ends before its Content-Length (the client closed its side early). Answer in the registry's language
 * (the bytes that did arrive stay in the upload session, so the client can resume).
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable) {
    socket.destroy();
    return;
  }
  const status = err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const code = err.code === 'HPE_INVALID_EOF_STATE' ? 'SIZE_INVALID' : 'UNSUPPORTED';
  const message = err.code === 'HPE_INVALID_EOF_STATE' ? 'The request body ended before its Content-Length.' : `Malformed HTTP request (${err.code ?? err.message}).`;
  socket.end(closingErrorResponse(status, code, message));
}

/** A port the OS says is free on `host` now (a suggestion: it could be taken again before use). */
export async function findFreePort(host: string, preferred?: number): Promise<number> {
  const probe = createServer();
  const tryPort = async (port: number) => {
    try {
      const p = await listen(probe, host, port);
      await new Promise<void>((r) => probe.close(() => r()));
      return p;
    } catch {
      return undefined;
    }
  };
  if (preferred !== undefined) {
    for (let p = preferred + 1; p < Math.min(preferred + 20, 65536); p++) {
      const got = await tryPort(p);
      if (got !== undefined) return got;
    }
  }
  return (await tryPort(0)) ?? 0;
}

export class RegistryService {
  readonly store: RegistryStore;
  private host = DEFAULT_HOST;
  private port = DEFAULT_PORT;
  private servers: Listener[] = [];
  private boundPort?: number;
  private lastError?: { error: string; suggestedPort?: number };
  private sweepTimer?: NodeJS.Timeout;
  private stopWatching: Array<() => void> = [];
  private changeTimer?: NodeJS.Timeout;
  private changedRepos = new Set<string | undefined>();
  /** start/stop/configure one at a time. */
  private transitions = new Mutex();

  constructor(readonly options: RegistryServiceOptions) {
    this.store = new RegistryStore({
      root: join(options.dataDir, 'registry'),
      log: options.log,
      onChange: (repo) => this.changed(repo),
    });
  }

  /** Sets the address; a running registry moves to it at once. */
  async configure(o: { host: string; port: number }): Promise<void> {
    const changed = o.host !== this.host || o.port !== this.port;
    this.host = o.host;
    this.port = o.port;
    if (changed && this.servers.length > 0) {
      await this.stop();
      await this.start();
    }
  }

  status(): RegistryStatus {
    const running = this.servers.length > 0;
    const port = running ? (this.boundPort ?? this.port) : this.port;
    const s: RegistryStatus = { running, host: this.host, port, address: clientAddress(this.host, port) };
    if (!running && this.lastError) {
      s.error = this.lastError.error;
      if (this.lastError.suggestedPort) s.suggestedPort = this.lastError.suggestedPort;
    }
    return s;
  }

  /** Starts listening (no-op when running). Throws PORT_IN_USE with a suggested free port when taken. */
  start(): Promise<void> {
    return this.serialized(async () => {
      if (this.servers.length > 0) return;
      await this.store.open();
      const handler = createRegistryHandler({ store: this.store, log: this.options.log, loopbackOnly: isLoopback(this.host) });
      const make = (): Listener => {
        const http = createServer({ requestTimeout: 0, headersTimeout: 60_000, keepAliveTimeout: 65_000 }, (req, res) => void handler(req, res));
        // Multi-GB uploads take longer than any fixed timeout; idle sockets are reaped by keepAliveTimeout.
        http.requestTimeout = 0;
        // …but a connection that sends and receives nothing for 10 minutes is a client that vanished.
        this.stopWatching.push(dropIdleConnections(http, IDLE_CONNECTION_MS));
        http.on('clientError', answerClientError);
        return { front: frontFor(http), http };
      };
      const primary = make();
      // 'localhost' may resolve to ::1 first; bind the IPv4 loopback explicitly and add ::1 below.
      const bindHost = this.host === 'localhost' ? '127.0.0.1' : this.host;
      let port: number;
      try {
        port = await listen(primary.front, bindHost, this.port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE' || code === 'EACCES') {
          const suggestedPort = await findFreePort(this.host, this.port);
          const why = code === 'EACCES' ? `Port ${this.port} needs privileges Berth does not have` : `Port ${this.port} on ${this.host} is already in use by another program`;
          const error = `${why}. Choose another port in Settings (port ${suggestedPort} is free).`;
          this.lastError = { error, suggestedPort };
          this.publishStatus();
          throw new BerthError('PORT_IN_USE', error, { port: this.port, host: this.host, suggestedPort });
        }
        const error = `The registry could not listen on ${this.host}:${this.port}: ${(err as Error).message}`;
        this.lastError = { error };
        this.publishStatus();
        throw new BerthError('REGISTRY_ERROR', error);
      }
      this.servers = [primary];
      if (this.host === '127.0.0.1' || this.host === 'localhost') {
        const v6 = make();
        try {
          await listen(v6.front, '::1', port);
          this.servers.push(v6);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          // No IPv6 on this machine is fine; something else on [::1]:port deserves a warning.
          if (code === 'EADDRINUSE') this.options.log(`registry: [::1]:${port} is taken by another program; clients that resolve localhost to ::1 will reach it instead`);
        }
      }
      this.boundPort = port;
      this.lastError = undefined;
      this.sweepTimer = setInterval(() => {
        this.store.expireUploads(DEFAULT_UPLOAD_EXPIRY_MS).catch((e: Error) => this.options.log(`registry: expiring uploads failed: ${e.message}`));
      }, UPLOAD_SWEEP_EVERY_MS);
      this.sweepTimer.unref();
      this.options.log(`registry: listening on ${clientAddress(this.host, port)} (${this.servers.length > 1 ? `${this.host} and ::1` : this.host}), data in ${this.store.root}`);
      this.publishStatus();
    });
  }

  /** Stops listening; the store stays open for the UI and the CLI. */
  stop(): Promise<void> {
    return this.serialized(async () => {
      if (this.sweepTimer) clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
      const servers = this.servers;
      this.servers = [];
      for (const stop of this.stopWatching.splice(0)) stop();
      this.boundPort = undefined;
      await Promise.all(servers.map(closeListener));
      if (servers.length > 0) this.publishStatus();
    });
  }

  async close(): Promise<void> {
    await this.stop();
    if (this.changeTimer) clearTimeout(this.changeTimer);
    await this.store.close();
  }

  private serialized<T>(fn: () => Promise<T>): Promise<T> {
    return this.transitions.run(fn);
  }

  private publishStatus(): void {
    this.options.events.publish({ type: 'registry.status', status: this.status() });
  }

  private changed(repo?: string): void {
    this.changedRepos.add(repo);
    if (this.changeTimer) return;
    this.changeTimer = setTimeout(() => {
      this.changeTimer = undefined;
      const repos = [...this.changedRepos];
      this.changedRepos.clear();
      // One repository: say which; several: a plain "something changed".
      if (repos.length === 1 && repos[0] !== undefined) this.options.events.publish({ type: 'registry.changed', repository: repos[0] });
      else this.options.events.publish({ type: 'registry.changed' });
    }, CHANGE_EVENT_DELAY_MS);
    this.changeTimer.unref();
  }
}

/**
 * One writer per data directory. A CLI command that acts on a data directory (import, export, gc, fsck)
 * runs through `withInstance`: when a Berth instance (the desktop app, `berth serve`, `berth registry`)
 * holds the directory, the work is handed to it over its control socket; otherwise the command takes the
 * lock and runs a backend of its own (registry not listening) for the length of the work.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { methodNames, type BerthApi } from '../../shared/api';
import { BerthError } from '../../shared/errors';
import type { BerthEvent } from '../../shared/events';
import { isFinished, type JobSnapshot } from '../../shared/jobs';
import type { Backend, BackendConfig } from '../app/backend';
import { acquireDataDir, defaultDataDir, findLockHolder, lockedError, type LockHolder } from '../app/data-dir';
import { JsonFileStore } from '../app/settings';
import { appPath } from '../app/paths';
import { createBridgeClient } from '../server/client';
import { announceInstance } from '../server/control';
import type { RunningServer } from '../server/server';
import type { CliIO } from './command';

export type WaitForJob = (id: string, onProgress?: (job: JobSnapshot) => void) => Promise<JobSnapshot>;

export interface InstanceOptions {
  /** How this process is named to others while it holds the lock, e.g. 'berth import'. */
  mode?: string;
  log?: (line: string) => void;
  /** Told which way the work goes: 'handed to berth serve (pid 123)' or 'running here'. */
  onRoute?: (route: { kind: 'remote'; holder: LockHolder } | { kind: 'local' }) => void;
  /** How long to wait for a starting instance to open its control socket. */
  connectTimeoutMs?: number;
}

/** The backend (dockerode, the registry, …) loads only when a command needs it: `berth --help` stays quick. */
const loadBackend = () => import('../app/backend');

let cachedVersion: string | undefined;
/** The package version (the CLI has no Electron app.getVersion()). */
export function berthVersion(): string {
  if (cachedVersion) return cachedVersion;
  const pkg = JSON.parse(readFileSync(appPath('package.json'), 'utf8')) as { version: string };
  cachedVersion = pkg.version;
  return cachedVersion;
}

/** Settings of a data directory when no Electron is around: `<dataDir>/settings.json`. */
export function settingsStore(dataDir: string): JsonFileStore {
  return new JsonFileStore(join(dataDir, 'settings.json'));
}

/** Wait for a job to finish, reporting each snapshot; subscribes before reading so no event is missed. */
export function jobWaiter(
  api: BerthApi,
  subscribe: (l: (e: BerthEvent) => void, onLost: () => void) => Promise<() => void> | (() => void),
): WaitForJob {
  return async (id, onProgress) => {
    let settle!: (job: JobSnapshot) => void;
    let fail!: (err: Error) => void;
    const finished = new Promise<JobSnapshot>((resolve, reject) => {
      settle = resolve;
      fail = reject;
    });
    const seen = (job: JobSnapshot) => {
      onProgress?.(job);
      if (isFinished(job.state)) settle(job);
    };
    // If the instance doing the work goes away, say so instead of waiting for an event that never comes.
    const lost = () => fail(new BerthError('INTERNAL', `The Berth instance running job ${id} went away before it finished; the job may be incomplete. Run the command again.`));
    const unsubscribe = await subscribe((e) => {
      if (e.type === 'job' && e.job.id === id) seen(e.job);
    }, lost);
    try {
      seen(await api['jobs.get']({ id }));
      return await finished;
    } finally {
      unsubscribe();
    }
  };
}

/** The contract as direct calls into a backend in this process (transport 'direct'). */
export function directApi(backend: Pick<Backend, 'dispatch'>): BerthApi {
  return Object.fromEntries(
    methodNames.map((m) => [
      m,
      async (input: unknown) => {
        const envelope = await backend.dispatch(m, input, { transport: 'direct' });
        if (!envelope.ok) throw BerthError.from(envelope.error);
        return envelope.result;
      },
    ]),
  ) as unknown as BerthApi;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function liveHolderWithControl(dataDir: string, timeoutMs: number): Promise<LockHolder | undefined> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const holder = await findLockHolder(dataDir);
    if (!holder || (holder.control && holder.token)) return holder;
    // Held, but its control socket is not up yet (the instance is starting): wait a little.
    if (Date.now() > deadline) throw lockedError(dataDir, holder);
    await sleep(100);
  }
}

export async function withInstance<T>(dataDir: string, fn: (api: BerthApi, waitForJob: WaitForJob) => Promise<T>, opts: InstanceOptions = {}): Promise<T> {
  dataDir = resolve(dataDir);
  for (let attempt = 0; ; attempt++) {
    const holder = await liveHolderWithControl(dataDir, opts.connectTimeoutMs ?? 5000);
    if (holder) {
      opts.onRoute?.({ kind: 'remote', holder });
      const client = createBridgeClient({ socketPath: holder.control, token: holder.token! });
      try {
        return await fn(client.api, jobWaiter(client.api, client.subscribe));
      } finally {
        client.close();
      }
    }
    let lock;
    try {
      lock = await acquireDataDir(dataDir, { mode: opts.mode ?? 'the berth CLI' });
    } catch (err) {
      // Someone took the lock between our look and our try: go round once more and hand the work over.
      if (err instanceof BerthError && err.code === 'LOCKED' && attempt < 2) continue;
      throw err;
    }
    opts.onRoute?.({ kind: 'local' });
    const { createBackend } = await loadBackend();
    const backend = createBackend({
      mode: 'serve',
      version: berthVersion(),
      dataDir,
      store: settingsStore(dataDir),
      registry: false,
      log: opts.log,
    });
    try {
      await backend.start();
      const api = directApi(backend);
      return await fn(api, jobWaiter(api, (l) => backend.services.events.subscribe(l)));
    } finally {
      await backend.close();
      lock.release();
    }
  }
}

/*
 * Running as an instance (`berth serve`, `berth registry`): lock the data directory, build and start the
 * backend, open the control socket, and take it all down again in the right order (writers first, the
 * lock last).
 */
export interface Instance {
  dataDir: string;
  backend: Backend;
  api: BerthApi;
  /** Close what was added after start (a UI bridge), then the backend, the control socket, the lock. */
  stop(): Promise<void>;
  onStop(close: () => Promise<void>): void;
}

/**
 * The registry says "choose another port in Settings"; on the command line the way out is a flag.
 * Rephrase its PORT_IN_USE with the flag that sets the registry's port for this command.
 */
function inTermsOfFlag(err: unknown, flag: string): unknown {
  if (!(err instanceof BerthError) || err.code !== 'PORT_IN_USE') return err;
  const d = (err.detail ?? {}) as { host?: string; port?: number; suggestedPort?: number };
  if (d.port === undefined) return err;
  const hint = d.suggestedPort ? ` Port ${d.suggestedPort} is free: try ${flag} ${d.suggestedPort}.` : ` Pick another with ${flag}.`;
  return new BerthError('PORT_IN_USE', `The registry cannot listen on ${d.host ?? '127.0.0.1'}:${d.port}: the port is in use.${hint}`, err.detail);
}

export async function startInstance(opts: {
  mode: string;
  data?: string;
  registry: BackendConfig['registry'];
  io: CliIO;
  /** The flag that sets the registry's port (for error messages): '--port' or '--registry-port'. */
  registryPortFlag?: string;
}): Promise<Instance> {
  const dataDir = resolve(opts.data ?? defaultDataDir());
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const lock = await acquireDataDir(dataDir, { mode: opts.mode });
  const closers: Array<() => Promise<void>> = [];
  let backend: Backend | undefined;
  let control: RunningServer | undefined;
  const stop = async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await control?.close().catch(() => {});
    await backend?.close();
    lock.release();
  };
  try {
    const { createBackend } = await loadBackend();
    backend = createBackend({
      mode: 'serve',
      version: berthVersion(),
      dataDir,
      store: settingsStore(dataDir),
      registry: opts.registry,
      log: opts.io.err,
    });
    await backend.start();
    control = await announceInstance(lock, backend, opts.io.err);
  } catch (err) {
    await stop();
    throw inTermsOfFlag(err, opts.registryPortFlag ?? '--registry-port');
  }
  return { dataDir, backend, api: directApi(backend), stop, onStop: (close) => void closers.push(close) };
}

/**
 * Resolves on the first SIGINT or SIGTERM, so the caller shuts down in order. A second signal while that
 * runs means "now": exit at once (the lock is released on exit; the stores are crash-safe).
 */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    let received = false;
    const on = (signal: NodeJS.Signals) => {
      if (received) process.exit(signal === 'SIGINT' ? 130 : 143);
      received = true;
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

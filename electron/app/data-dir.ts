/**
 * The data directory: where it lives by default, and the lock that keeps two processes from writing it at
 * once. The lock is a file created atomically with its content (write a temp file, then link(2) it to the
 * lock name — link fails if the name exists), so a second process always reads a complete holder record:
 * who holds the directory, since when, and how to reach it (its control socket and token, mode 0600).
 *
 * A lock is stale when its process is gone. "Gone" is more than "no process has that pid": pids are reused,
 * so the record also names when its process started and which program it is (process-identity.ts). A live
 * pid that started at another time is someone else: stale. Where no start time can be read (Windows, an
 * older record) the lock is stale only when its control socket does not answer and the pid runs another
 * program; that needs a connection attempt, so only the async acquireDataDir / findLockHolder decide it.
 * A lock from another machine (a shared folder) cannot be judged and counts as held; "another machine"
 * means another hostname, except that on macOS and Windows a matching machine id says it is this one.
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { homedir, hostname, tmpdir } from 'node:os';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import { BerthError } from '../../shared/errors';
import { fsyncDirSync } from './atomic';
import { machineId, ownIdentity, processIdentity } from './process-identity';

/** Must match electron-builder's productName: Electron's userData folder is named after it. */
export const productName = 'Berth';
export const lockFileName = 'berth.lock';

/**
 * The folder Electron's app.getPath('userData') gives for productName "Berth", so the CLI and the desktop
 * app share one data directory. BERTH_DATA_DIR overrides it.
 */
export function defaultDataDir(env: NodeJS.ProcessEnv = process.env, platform: NodeJS.Platform = process.platform, home = homedir()): string {
  if (env.BERTH_DATA_DIR) return resolve(env.BERTH_DATA_DIR);
  if (platform === 'darwin') return join(home, 'Library', 'Application Support', productName);
  if (platform === 'win32') return join(env.APPDATA || join(home, 'AppData', 'Roaming'), productName);
  return join(env.XDG_CONFIG_HOME || join(home, '.config'), productName);
}

/**
 * Where an instance serves its control bridge. Unix socket paths are limited to ~104 bytes (macOS) / 108
 * (Linux), so a deep data directory gets a socket in the temp folder named by the directory's hash.
 * Windows has no unix sockets in every setup we support: a named pipe.
 */
export function controlAddress(dataDir: string, platform: NodeJS.Platform = process.platform): string {
  const hash = createHash('sha256').update(resolve(dataDir)).digest('hex').slice(0, 16);
  if (platform === 'win32') return `\\\\.\\pipe\\berth-${hash}`;
  const inDir = join(dataDir, 'berth.sock');
  return Buffer.byteLength(inDir) <= 100 ? inDir : join(tmpdir(), `berth-${hash}.sock`);
}

export interface LockHolder {
  pid: number;
  /** What holds it, in words: 'the Berth desktop app', 'berth serve', 'berth import', … */
  mode: string;
  /** ISO time */
  startedAt: string;
  hostname: string;
  /** The control bridge's address (unix socket or named pipe) once it listens. */
  control?: string;
  /** The control bridge's per-run token. The lock file is mode 0600 for this reason. */
  token?: string;
  /** Random per lock, so release() never removes a lock another process took over. */
  nonce: string;
  /** When the holding process started (process-identity.ts), so a reused pid is not mistaken for it. */
  processStarted?: string;
  /** The holding program's short name ('node', 'Berth', 'berth.exe'), where the platform tells. */
  program?: string;
  /** macOS / Windows: the computer's id, which survives the hostname changing with the network. */
  machine?: string;
}

export interface DataDirLock {
  readonly dir: string;
  readonly file: string;
  readonly holder: LockHolder;
  /** Record how to reach this instance (after its control bridge listens). */
  update(patch: Pick<Partial<LockHolder>, 'control' | 'token'>): void;
  release(): void;
}

/** True when a process with this pid exists (EPERM: it exists but belongs to someone else). */
export function isProcessAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readHolderFile(file: string): LockHolder | undefined {
  try {
    return parseHolder(readFileSync(file, 'utf8'));
  } catch {
    return undefined;
  }
}

function parseHolder(text: string): LockHolder | undefined {
  try {
    const parsed = JSON.parse(text) as LockHolder;
    return typeof parsed.pid === 'number' ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/**
 * What can be told without talking to the holder: 'stale' when it ran on this machine and its process is
 * gone or its pid now belongs to a process that started at another time; 'live' when the same process
 * still runs (or it ran on another machine: a shared folder, cannot tell); 'unsure' when the pid is alive
 * but its start time cannot be compared (no start time recorded or readable).
 */
function holderState(holder: LockHolder | undefined): 'live' | 'stale' | 'unsure' {
  if (!holder) return 'stale';
  if (!onThisMachine(holder)) return 'live';
  if (!isProcessAlive(holder.pid)) return 'stale';
  const now = processIdentity(holder.pid);
  if (now.exited) return 'stale'; // a crashed holder nobody reaped yet
  if (!holder.processStarted || !now.started) return 'unsure';
  return now.started === holder.processStarted ? 'live' : 'stale';
}

function onThisMachine(holder: LockHolder): boolean {
  if (holder.hostname === hostname()) return true;
  return holder.machine !== undefined && holder.machine === machineId();
}

/** The synchronous verdict: an unsure holder counts as live (two writers would be worse than a refusal). */
function isStale(holder: LockHolder | undefined): boolean {
  return holderState(holder) === 'stale';
}

/**
 * For a holder whose start time could not settle it: stale when its control socket does not answer and
 * its pid runs another program than the one that took the lock. A Berth that is starting (no control
 * socket yet) or shutting down (socket closed, still flushing) runs the same program: still live.
 */
async function isUnsureHolderStale(holder: LockHolder): Promise<boolean> {
  if (await controlAnswers(holder.control)) return false;
  const program = processIdentity(holder.pid).program;
  if (!program) return false; // cannot tell which program: keep it
  return holder.program ? program !== holder.program : !looksLikeBerth(program);
}

/** Records from before `program` was kept: the desktop app (Berth, Electron) or the CLI (node). */
function looksLikeBerth(program: string): boolean {
  return /berth|electron|node/i.test(program);
}

/** True when something accepts a connection at the control address within a second. */
function controlAnswers(address: string | undefined, timeoutMs = 1000): Promise<boolean> {
  if (!address) return Promise.resolve(false);
  return new Promise((resolve) => {
    const socket = connect({ path: address });
    const done = (answered: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answered);
    };
    const timer = setTimeout(() => done(false), timeoutMs);
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** The live holder of the directory's lock, or undefined when it is free (or its holder is gone). */
export function readLockHolder(dir: string): LockHolder | undefined {
  const holder = readHolderFile(join(dir, lockFileName));
  return holder && !isStale(holder) ? holder : undefined;
}

/** readLockHolder, and where the start time cannot tell, the control socket and the program decide. */
export async function findLockHolder(dir: string): Promise<LockHolder | undefined> {
  const holder = readHolderFile(join(dir, lockFileName));
  const state = holderState(holder);
  if (state === 'stale') return undefined;
  if (state === 'unsure' && (await isUnsureHolderStale(holder!))) return undefined;
  return holder;
}

export function describeHolder(h: LockHolder): string {
  return `${h.mode} (pid ${h.pid}, started ${h.startedAt})`;
}

export function lockedError(dir: string, h: LockHolder): BerthError {
  const { token: _secret, nonce: _nonce, machine: _machine, ...shown } = h;
  return new BerthError(
    'LOCKED',
    `The data directory ${dir} is in use by ${describeHolder(h)}. Stop it or use --data to pick another directory.`,
    shown,
  );
}

function writeTemp(dir: string, holder: LockHolder): string {
  const tmp = join(dir, `${lockFileName}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, JSON.stringify(holder, null, 2));
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  return tmp;
}

/** Create the lock file with its content in one step; false when it already exists. */
function tryCreate(dir: string, file: string, holder: LockHolder): boolean {
  const tmp = writeTemp(dir, holder);
  try {
    linkSync(tmp, file);
    fsyncDirSync(dir);
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  } finally {
    rmSync(tmp, { force: true });
  }
}

/**
 * Two processes may find the same stale lock at once; only the one that creates the takeover marker
 * removes it, so neither deletes the fresh lock the other just made. A marker left by a crash expires.
 */
function takeOverStale(dir: string, file: string, stale: (h: LockHolder | undefined) => boolean = isStale): void {
  const marker = `${file}.takeover`;
  try {
    if (Date.now() - statSync(marker).mtimeMs > 10_000) rmSync(marker, { force: true });
  } catch {
    // no marker
  }
  let fd: number;
  try {
    fd = openSync(marker, 'wx', 0o600);
  } catch {
    return; // another process is taking over right now; the caller retries and sees its result
  }
  try {
    // Remove only a lock we actually read and found stale. A missing file is not stale: another process
    // may be creating its fresh lock right now. An unreadable one is (locks are written whole, by link).
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      return;
    }
    if (stale(parseHolder(text))) rmSync(file, { force: true });
  } finally {
    closeSync(fd);
    rmSync(marker, { force: true });
  }
}

const held = new Set<DataDirLock>();
let exitHooked = false;

function hookExit(): void {
  if (exitHooked) return;
  exitHooked = true;
  process.on('exit', () => {
    for (const l of [...held]) l.release();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    // Keep the default behaviour (exit, releasing the lock on the way) unless the program installed its
    // own shutdown handler: then it releases the lock itself after its writers stopped.
    const onSignal = () => {
      if (process.listenerCount(signal) === 1) process.exit(signal === 'SIGINT' ? 130 : 143);
    };
    process.on(signal, onSignal);
  }
}

/**
 * Lock `dir` for this process. Throws BerthError('LOCKED') naming the holder when a live process has it;
 * takes over a lock whose process is gone.
 */
export function lockDataDir(dir: string, info: { mode: string; control?: string; token?: string }): DataDirLock {
  dir = resolve(dir);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = join(dir, lockFileName);
  const me = ownIdentity();
  const holder: LockHolder = {
    pid: process.pid,
    mode: info.mode,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    ...(info.control ? { control: info.control } : {}),
    ...(info.token ? { token: info.token } : {}),
    nonce: randomBytes(12).toString('hex'),
    ...(me.started ? { processStarted: me.started } : {}),
    ...(me.program ? { program: me.program } : {}),
    ...(machineId() ? { machine: machineId() } : {}),
  };
  for (let attempt = 0; ; attempt++) {
    if (tryCreate(dir, file, holder)) break;
    const current = readHolderFile(file);
    if (current && !isStale(current)) throw lockedError(dir, current);
    // Unreadable: maybe a lock from an older format or a torn write; treat like a dead holder.
    if (attempt >= 5) throw new BerthError('LOCKED', `Could not take over the stale lock ${file}; remove it if no Berth process is running.`);
    takeOverStale(dir, file);
  }

  let released = false;
  const lock: DataDirLock = {
    dir,
    file,
    holder,
    update(patch) {
      if (released) return;
      Object.assign(holder, patch);
      const tmp = writeTemp(dir, holder);
      renameSync(tmp, file);
      fsyncDirSync(dir);
    },
    release() {
      if (released) return;
      released = true;
      held.delete(lock);
      if (readHolderFile(file)?.nonce === holder.nonce) rmSync(file, { force: true });
    },
  };
  held.add(lock);
  hookExit();
  return lock;
}

/**
 * lockDataDir, which also takes over a lock the synchronous check cannot settle (no start time to compare)
 * when its control socket does not answer and its pid runs another program. The way every long-running
 * holder (the desktop app, berth serve, the CLI) should take the lock.
 */
export async function acquireDataDir(dir: string, info: { mode: string; control?: string; token?: string }): Promise<DataDirLock> {
  dir = resolve(dir);
  const file = join(dir, lockFileName);
  try {
    return lockDataDir(dir, info);
  } catch (err) {
    if (!(err instanceof BerthError) || err.code !== 'LOCKED') throw err;
    const holder = readHolderFile(file);
    if (!holder || holderState(holder) !== 'unsure' || !(await isUnsureHolderStale(holder))) throw err;
    // Remove exactly the record judged stale: a fresh lock that replaced it meanwhile stays.
    takeOverStale(dir, file, (h) => h?.nonce === holder.nonce && h.pid === holder.pid);
    return lockDataDir(dir, info);
  }
}

/**
 * The data directory: where it lives by default, and the lock that keeps two processes from writing it at
 * once. The lock is a file created atomically with its content (write a temp file, then link(2) it to the
 * lock name — link fails if the name exists), so a second process always reads a complete holder record:
 * who holds the directory, since when, and how to reach it (its control socket and token, mode 0600).
 */
import { closeSync, fsyncSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { createHash, randomBytes } from 'node:crypto';
import { homedir, hostname, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { BerthError } from '../../shared/errors';
import { fsyncDirSync } from './atomic';

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

/** A holder is stale when it ran on this machine and its process is gone. */
function isStale(holder: LockHolder | undefined): boolean {
  if (!holder) return true;
  if (holder.hostname !== hostname()) return false; // another machine (shared folder): cannot tell; assume alive
  return !isProcessAlive(holder.pid);
}

/** The live holder of the directory's lock, or undefined when it is free (or held by a dead process). */
export function readLockHolder(dir: string): LockHolder | undefined {
  const holder = readHolderFile(join(dir, lockFileName));
  return holder && !isStale(holder) ? holder : undefined;
}

export function describeHolder(h: LockHolder): string {
  return `${h.mode} (pid ${h.pid}, started ${h.startedAt})`;
}

export function lockedError(dir: string, h: LockHolder): BerthError {
  const { token: _secret, nonce: _nonce, ...shown } = h;
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
function takeOverStale(dir: string, file: string): void {
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
    if (isStale(parseHolder(text))) rmSync(file, { force: true });
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
  const holder: LockHolder = {
    pid: process.pid,
    mode: info.mode,
    startedAt: new Date().toISOString(),
    hostname: hostname(),
    ...(info.control ? { control: info.control } : {}),
    ...(info.token ? { token: info.token } : {}),
    nonce: randomBytes(12).toString('hex'),
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

import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { BerthError } from '../../shared/errors';
import { createServer, type Server } from 'node:net';
import { acquireDataDir, controlAddress, defaultDataDir, findLockHolder, lockDataDir, lockFileName, readLockHolder, type LockHolder } from './data-dir';
import { processIdentity } from './process-identity';

const dirs: string[] = [];
const children: ChildProcess[] = [];
const tempDir = () => {
  const d = mkdtempSync(join(tmpdir(), 'berth-datadir-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const c of children.splice(0)) c.kill('SIGKILL');
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A second process that takes the lock and holds it until killed; resolves with it once it holds it. */
function holdLockInChild(dir: string): Promise<ChildProcess> {
  const script = `
    import { lockDataDir } from ${JSON.stringify(new URL('./data-dir.ts', import.meta.url).pathname)};
    lockDataDir(${JSON.stringify(dir)}, { mode: 'berth serve' });
    console.log('locked');
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  children.push(child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('locked') && resolve(child));
    child.on('exit', (code) => reject(new Error(`child exited ${code}`)));
  });
}

function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  return new Promise((resolve) => child.on('exit', () => resolve(child.pid!)));
}

describe('defaultDataDir', () => {
  it("matches Electron's userData for productName Berth on each platform", () => {
    expect(defaultDataDir({}, 'linux', '/home/ada')).toBe('/home/ada/.config/Berth');
    expect(defaultDataDir({ XDG_CONFIG_HOME: '/xdg' }, 'linux', '/home/ada')).toBe('/xdg/Berth');
    expect(defaultDataDir({}, 'darwin', '/Users/ada')).toBe('/Users/ada/Library/Application Support/Berth');
    expect(defaultDataDir({ APPDATA: 'C:\\Users\\ada\\AppData\\Roaming' }, 'win32', 'C:\\Users\\ada')).toMatch(/AppData.Roaming.Berth$/);
  });
  it('is overridden by BERTH_DATA_DIR', () => {
    expect(defaultDataDir({ BERTH_DATA_DIR: '/srv/berth' }, 'linux', '/home/ada')).toBe('/srv/berth');
  });
});

describe('controlAddress', () => {
  it('is berth.sock in the data directory, a temp socket when the path is too long, a pipe on Windows', () => {
    expect(controlAddress('/data', 'linux')).toBe('/data/berth.sock');
    const deep = `/${'d'.repeat(120)}`;
    expect(controlAddress(deep, 'linux')).toMatch(/berth-[0-9a-f]{16}\.sock$/);
    expect(controlAddress('C:\\data', 'win32')).toMatch(/^\\\\\.\\pipe\\berth-[0-9a-f]{16}$/);
  });
});

describe('lockDataDir', () => {
  it('writes a holder record readable by others, mode 0600, and removes it on release', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { mode: 'berth registry' });
    const file = join(dir, lockFileName);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readLockHolder(dir)).toMatchObject({ pid: process.pid, mode: 'berth registry', hostname: hostname() });
    lock.update({ control: '/x.sock', token: 'secret' });
    expect(JSON.parse(readFileSync(file, 'utf8'))).toMatchObject({ control: '/x.sock', token: 'secret' });
    lock.release();
    expect(existsSync(file)).toBe(false);
  });

  it('refuses a second lock in this process', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { mode: 'one' });
    expect(() => lockDataDir(dir, { mode: 'two' })).toThrow(/in use by one/);
    lock.release();
  });

  it('tells a second process which process holds the directory', async () => {
    const dir = tempDir();
    const child = await holdLockInChild(dir);
    let error: unknown;
    try {
      lockDataDir(dir, { mode: 'berth import' });
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(BerthError);
    const e = error as BerthError;
    expect(e.code).toBe('LOCKED');
    expect(e.message).toContain(`The data directory ${dir} is in use by berth serve (pid ${child.pid}, started `);
    expect(e.message).toContain('Stop it or use --data to pick another directory.');
    expect(e.detail).toMatchObject({ pid: child.pid, mode: 'berth serve' });
    if (process.platform === 'linux') expect(e.detail).toMatchObject({ processStarted: processIdentity(child.pid!).started, program: 'node' });
    expect(JSON.stringify(e.detail)).not.toContain('nonce');
  });

  it('takes over a lock whose process is gone (killed without cleanup)', async () => {
    const dir = tempDir();
    const child = await holdLockInChild(dir);
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(dir, lockFileName))).toBe(true); // SIGKILL left it behind
    expect(readLockHolder(dir)).toBeUndefined();
    const lock = lockDataDir(dir, { mode: 'berth serve' });
    expect(readLockHolder(dir)?.pid).toBe(process.pid);
    lock.release();
  });

  it('takes over a stale record written by a dead pid, and an unreadable one', async () => {
    const dir = tempDir();
    const file = join(dir, lockFileName);
    writeFileSync(file, JSON.stringify({ pid: await deadPid(), mode: 'old', startedAt: '', hostname: hostname(), nonce: 'n' }));
    lockDataDir(dir, { mode: 'new' }).release();
    writeFileSync(file, '{ torn');
    lockDataDir(dir, { mode: 'new' }).release();
  });

  it('release never removes a lock another process took over', () => {
    const dir = tempDir();
    const lock = lockDataDir(dir, { mode: 'first' });
    const file = join(dir, lockFileName);
    const other = JSON.stringify({ pid: process.pid, mode: 'other', startedAt: '', hostname: hostname(), nonce: 'other' });
    writeFileSync(file, other);
    lock.release();
    expect(readFileSync(file, 'utf8')).toBe(other);
  });

  it('the lock is released when the holding process is stopped with SIGTERM', async () => {
    const dir = tempDir();
    const child = await holdLockInChild(dir);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
    expect(existsSync(join(dir, lockFileName))).toBe(false);
  });
});

/**
 * Crafted lock records naming a live process that is not Berth: the test runner's parent (vitest's main
 * process, started well before this one), as a pid reused after a reboot would look.
 */
describe('a live pid that is not the holder (pid reuse)', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    for (const srv of servers.splice(0)) await new Promise((r) => srv.close(r));
  });
  const record = (dir: string, fields: Partial<LockHolder>) => {
    const holder = { pid: process.ppid, mode: 'berth serve', startedAt: '2026-01-01T00:00:00.000Z', hostname: hostname(), nonce: 'crafted', ...fields };
    writeFileSync(join(dir, lockFileName), JSON.stringify(holder));
    return holder;
  };
  const parent = processIdentity(process.ppid);
  const linux = process.platform === 'linux';

  it.skipIf(!linux)('is stale when the pid is alive but started at another time: taken over', async () => {
    const dir = tempDir();
    // What a Berth that had this pid before a reboot would have written: its own, different start time.
    record(dir, { processStarted: processIdentity(process.pid).started, program: parent.program });
    expect(readLockHolder(dir)).toBeUndefined();
    expect(await findLockHolder(dir)).toBeUndefined();
    const lock = lockDataDir(dir, { mode: 'berth registry' });
    expect(readLockHolder(dir)).toMatchObject({ pid: process.pid, mode: 'berth registry' });
    lock.release();
  });

  it.skipIf(!linux)('is live when the pid started when the record says: LOCKED, naming it', async () => {
    const dir = tempDir();
    record(dir, { processStarted: parent.started, program: parent.program });
    expect(readLockHolder(dir)?.pid).toBe(process.ppid);
    expect(await findLockHolder(dir)).toMatchObject({ pid: process.ppid });
    expect(() => lockDataDir(dir, { mode: 'x' })).toThrow(/in use by berth serve \(pid \d+/);
    await expect(acquireDataDir(dir, { mode: 'x' })).rejects.toMatchObject({ code: 'LOCKED' });
  });

  it('is stale when the dead pid left it: taken over by acquireDataDir too', async () => {
    const dir = tempDir();
    const pid = await new Promise<number>((resolve) => {
      const child = spawn(process.execPath, ['-e', '']);
      child.on('exit', () => resolve(child.pid!));
    });
    record(dir, { pid, processStarted: 'whatever' });
    expect(await findLockHolder(dir)).toBeUndefined();
    (await acquireDataDir(dir, { mode: 'new' })).release();
  });

  describe('without a start time to compare (an older record, or Windows)', () => {
    it('is stale when its control socket does not answer and the pid runs another program', async () => {
      const dir = tempDir();
      record(dir, { program: 'Berth', control: join(dir, 'berth.sock'), token: 't' });
      // The synchronous check cannot tell, so it refuses rather than risk two writers…
      expect(readLockHolder(dir)?.pid).toBe(process.ppid);
      expect(() => lockDataDir(dir, { mode: 'x' })).toThrow(/in use/);
      // …the async one asks the socket and the process, and takes over.
      expect(await findLockHolder(dir)).toBeUndefined();
      const lock = await acquireDataDir(dir, { mode: 'the Berth desktop app' });
      expect(readLockHolder(dir)).toMatchObject({ pid: process.pid, mode: 'the Berth desktop app' });
      lock.release();
    });

    it('is live while its control socket answers, whatever the program', async () => {
      const dir = tempDir();
      const control = join(dir, 'berth.sock');
      const srv = createServer((c) => c.end());
      servers.push(srv);
      await new Promise<void>((r) => srv.listen(control, r));
      record(dir, { program: 'Berth', control, token: 't' });
      expect(await findLockHolder(dir)).toMatchObject({ pid: process.ppid, control });
      await expect(acquireDataDir(dir, { mode: 'x' })).rejects.toMatchObject({ code: 'LOCKED' });
    });

    it.skipIf(!parent.program)('is live when the pid runs the program that took the lock (starting, or shutting down)', async () => {
      const dir = tempDir();
      record(dir, { program: parent.program });
      expect(await findLockHolder(dir)).toMatchObject({ pid: process.ppid });
      await expect(acquireDataDir(dir, { mode: 'x' })).rejects.toMatchObject({ code: 'LOCKED' });
    });

    it('an old record without a program is kept when the pid runs node, taken over when it runs something else', async () => {
      const dir = tempDir();
      record(dir, {}); // the parent is node (vitest): could be an older berth serve
      expect(await findLockHolder(dir)).toMatchObject({ pid: process.ppid });
      const sleeper = spawn('sleep', ['30']);
      children.push(sleeper);
      await new Promise((r) => sleeper.once('spawn', r));
      record(dir, { pid: sleeper.pid });
      expect(await findLockHolder(dir)).toBeUndefined();
      (await acquireDataDir(dir, { mode: 'new' })).release();
    });
  });
});

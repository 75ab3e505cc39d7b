import { afterEach, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobSnapshot } from '../../shared/jobs';
import { lockDataDir, lockFileName, readLockHolder } from '../app/data-dir';
import { withInstance } from './instance';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'berth-instance-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/**
 * A running Berth instance in another process (what `berth serve` / `berth registry` do, registry off),
 * with one job that makes progress for ~1.5 s. Resolves with the process and the job's id.
 */
function startInstanceInChild(dataDir: string): Promise<{ child: ChildProcess; jobId: string }> {
  const instance = new URL('./instance.ts', import.meta.url).pathname;
  const script = `
    import { startInstance, untilSignal } from ${JSON.stringify(instance)};
    const io = { out: console.log, err: () => {}, tty: false };
    const inst = await startInstance({ mode: 'berth serve', data: ${JSON.stringify(dataDir)}, registry: false, io });
    const job = inst.backend.services.jobs.start('gc', 'Fixture job', async (ctx) => {
      const item = ctx.item('blob', 'a blob', 10);
      for (let i = 1; i <= 10; i++) {
        await new Promise((r) => setTimeout(r, 150));
        item.progress(i);
      }
      return { pid: process.pid };
    });
    console.log(JSON.stringify({ jobId: job.id }));
    await untilSignal();
    await inst.stop();
    process.exit(0);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  cleanups.push(() => {
    if (child.exitCode === null) child.kill('SIGKILL');
  });
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /\{"jobId":"([^"]+)"\}/.exec(out);
      if (m) resolve({ child, jobId: m[1] });
    });
    child.on('exit', (code) => reject(new Error(`instance exited with ${code}`)));
  });
}

describe('withInstance', () => {
  it('takes the lock and runs a backend here when no instance holds the directory, then lets go', async () => {
    const dir = tempDir();
    const routes: string[] = [];
    const info = await withInstance(
      dir,
      async (api) => {
        expect(readLockHolder(dir)).toMatchObject({ pid: process.pid, mode: 'berth test' });
        return api['app.info']({});
      },
      { mode: 'berth test', onRoute: (r) => routes.push(r.kind), log: () => {} },
    );
    expect(info.dataDir).toBe(dir);
    expect(routes).toEqual(['local']);
    expect(existsSync(join(dir, lockFileName))).toBe(false);
  });

  it('runs here when the lock names a live pid that is another program and its control socket is dead', async () => {
    const dir = tempDir();
    // A lock an older Berth left (no start time) whose pid now belongs to something else entirely.
    const other = spawn('sleep', ['30']);
    cleanups.push(() => other.kill('SIGKILL'));
    await new Promise((r) => other.once('spawn', r));
    const stale = { pid: other.pid, mode: 'berth serve', startedAt: '', hostname: hostname(), nonce: 'old', control: join(dir, 'berth.sock'), token: 't' };
    writeFileSync(join(dir, lockFileName), JSON.stringify(stale));
    const routes: string[] = [];
    const pid = await withInstance(dir, async () => readLockHolder(dir)?.pid, { onRoute: (r) => routes.push(r.kind), log: () => {} });
    expect(routes).toEqual(['local']);
    expect(pid).toBe(process.pid);
    expect(existsSync(join(dir, lockFileName))).toBe(false);
  });

  it('waitForJob on its own backend says NOT_FOUND for a job that does not exist', async () => {
    const dir = tempDir();
    const done = await withInstance(
      dir,
      async (api, waitForJob) => {
        expect(await api['jobs.list']({})).toEqual([]);
        return waitForJob('no-such-job').catch((e: Error) => e);
      },
      { log: () => {} },
    );
    expect(done).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('hands the work to the instance running in another process, and follows its job over SSE', async () => {
    const dir = tempDir();
    const { child, jobId } = await startInstanceInChild(dir);
    const routes: Array<number | undefined> = [];
    const snapshots: JobSnapshot[] = [];
    const finished = await withInstance(
      dir,
      async (api, waitForJob) => {
        const jobs = await api['jobs.list']({});
        expect(jobs.map((j) => j.id)).toEqual([jobId]); // the child's job list: the call ran there
        return waitForJob(jobId, (s) => snapshots.push(s));
      },
      { onRoute: (r) => routes.push(r.kind === 'remote' ? r.holder.pid : undefined) },
    );
    expect(routes).toEqual([child.pid]);
    expect(finished).toMatchObject({ id: jobId, state: 'done', done: 10, total: 10, result: { pid: child.pid } });
    expect(snapshots.length).toBeGreaterThan(2); // progress arrived while it ran, not only the end
    expect(new Set(snapshots.map((s) => s.done)).size).toBeGreaterThan(2);
    // The child still holds the directory; nobody else can lock it.
    expect(() => lockDataDir(dir, { mode: 'x' })).toThrow(/in use by berth serve/);
    child.kill('SIGTERM');
    const code = await new Promise((r) => child.once('exit', r));
    expect(code).toBe(0);
    expect(existsSync(join(dir, lockFileName))).toBe(false);
    expect(existsSync(join(dir, 'berth.sock'))).toBe(false);
  }, 30_000);
});

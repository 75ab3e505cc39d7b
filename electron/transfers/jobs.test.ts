import { describe, expect, it } from 'vitest';
import { EventBus } from '../app/events';
import { JobManager } from './jobs';
import type { JobSnapshot } from '../../shared/jobs';
import { BerthError } from '../../shared/errors';

function setup(concurrency = 2) {
  const events = new EventBus();
  const seen: JobSnapshot[] = [];
  events.subscribe((e) => {
    if (e.type === 'job') seen.push(e.job);
  });
  return { jobs: new JobManager(events, concurrency), seen };
}

describe('JobManager', () => {
  it('runs a job to done, sums item progress and reports its result', async () => {
    const { jobs, seen } = setup();
    const snap = jobs.start('push', 'push x', async (ctx) => {
      const a = ctx.item('a', 'layer a', 100);
      const b = ctx.item('b', 'layer b', 50);
      a.progress(100);
      b.progress(25);
      return { pushed: 2 };
    });
    const done = await jobs.wait(snap.id);
    expect(done.state).toBe('done');
    expect(done.done).toBe(125);
    expect(done.total).toBe(150);
    expect(done.result).toEqual({ pushed: 2 });
    expect(seen.at(-1)?.state).toBe('done');
    expect(seen.map((s) => s.state)).toContain('running');
  });

  it('cancels a running job through its AbortSignal', async () => {
    const { jobs } = setup();
    const snap = jobs.start('pull', 'slow', (ctx) => new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))));
    await new Promise((r) => setTimeout(r, 10));
    jobs.cancel(snap.id);
    const end = await jobs.wait(snap.id);
    expect(end.state).toBe('cancelled');
    expect(end.error).toBeUndefined();
  });

  it('reports a failure with its error code and message', async () => {
    const { jobs } = setup();
    const snap = jobs.start('import', 'bad', async () => {
      throw new BerthError('ARCHIVE_INVALID', 'not a tar archive');
    });
    const end = await jobs.wait(snap.id);
    expect(end.state).toBe('failed');
    expect(end.error).toEqual({ code: 'ARCHIVE_INVALID', message: 'not a tar archive' });
  });

  it('runs at most `concurrency` jobs at once and queues the rest', async () => {
    const { jobs } = setup(1);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = jobs.start('copy', 'first', () => gate);
    const second = jobs.start('copy', 'second', async () => 'ok');
    expect(jobs.get(first.id).state).toBe('running');
    expect(jobs.get(second.id).state).toBe('queued');
    release();
    expect((await jobs.wait(second.id)).state).toBe('done');
  });

  it('cancelling a queued job never runs it; clear forgets finished jobs', async () => {
    const { jobs } = setup(1);
    let ran = false;
    let release!: () => void;
    const blocker = jobs.start('copy', 'blocker', () => new Promise<void>((r) => (release = r)));
    const queued = jobs.start('copy', 'queued', async () => {
      ran = true;
    });
    expect(jobs.cancel(queued.id).state).toBe('cancelled');
    release();
    await jobs.wait(blocker.id);
    expect(ran).toBe(false);
    expect(jobs.clear()).toBe(2);
    expect(jobs.list()).toEqual([]);
    expect(() => jobs.get(queued.id)).toThrow(/No job/);
  });
});

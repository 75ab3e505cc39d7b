import { describe, expect, it } from 'vitest';
import type { BerthApi } from '../../shared/api';
import type { BerthEvent } from '../../shared/events';
import type { JobSnapshot } from '../../shared/jobs';
import { jobWaiter } from './instance';

const running: JobSnapshot = { id: 'j1', kind: 'import', title: 'import x', state: 'running', done: 1, total: 10, items: [], createdAt: 0 };
const api = { 'jobs.get': async () => running } as unknown as BerthApi;

describe('jobWaiter', () => {
  it('resolves with the finished snapshot that arrives as an event', async () => {
    let emit!: (e: BerthEvent) => void;
    const wait = jobWaiter(api, (l) => {
      emit = l;
      return () => undefined;
    });
    const seen: string[] = [];
    const done = wait('j1', (j) => seen.push(j.state));
    await new Promise((r) => setTimeout(r, 5));
    emit({ type: 'job', job: { ...running, id: 'other', state: 'done' } });
    emit({ type: 'job', job: { ...running, state: 'done', done: 10 } });
    await expect(done).resolves.toMatchObject({ id: 'j1', state: 'done' });
    expect(seen).toEqual(['running', 'done']);
  });

  it('fails with a clear message when the instance doing the work goes away', async () => {
    let lost!: () => void;
    let unsubscribed = false;
    const wait = jobWaiter(api, (_l, onLost) => {
      lost = onLost;
      return () => {
        unsubscribed = true;
      };
    });
    const done = wait('j1');
    await new Promise((r) => setTimeout(r, 5));
    lost();
    await expect(done).rejects.toThrow(/went away before it finished/);
    expect(unsubscribed).toBe(true);
  });
});

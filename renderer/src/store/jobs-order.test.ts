import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../../shared/jobs';
import { newerSnapshot } from './jobs';

const snap = (state: JobSnapshot['state'], done = 0): JobSnapshot => ({ id: 'j', kind: 'gc', title: 'GC', state, done, items: [], createdAt: 1 });

describe('newerSnapshot', () => {
  it('never takes a finished job back to running when a late call result arrives', () => {
    expect(newerSnapshot(snap('done', 10), snap('running')).state).toBe('done');
    expect(newerSnapshot(snap('failed'), snap('queued')).state).toBe('failed');
    expect(newerSnapshot(snap('running', 5), snap('queued')).state).toBe('running');
  });
  it('takes progress and the final state as they come', () => {
    expect(newerSnapshot(snap('running', 5), snap('running', 9)).done).toBe(9);
    expect(newerSnapshot(snap('running'), snap('cancelled')).state).toBe('cancelled');
    expect(newerSnapshot(undefined, snap('queued')).state).toBe('queued');
  });
});

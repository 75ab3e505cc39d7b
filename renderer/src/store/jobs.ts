/** Every job the backend runs (import, export, gc, …), kept current by `job` events. */
import { create } from 'zustand';
import { isFinished, type JobSnapshot } from '../../../shared/jobs';
import type { ErrorInfo } from '../../../shared/errors';
import { asBerthError, berth } from '../api';

interface JobsState {
  jobs: Record<string, JobSnapshot>;
  error?: ErrorInfo;
  loaded: boolean;
  load(): Promise<void>;
  apply(job: JobSnapshot): void;
  cancel(id: string): Promise<void>;
  clearFinished(): Promise<number>;
}

export const useJobs = create<JobsState>((set, get) => ({
  jobs: {},
  loaded: false,
  async load() {
    try {
      const list = await berth['jobs.list']({});
      set({ jobs: Object.fromEntries(list.map((j) => [j.id, j])), loaded: true, error: undefined });
    } catch (err) {
      set({ error: asBerthError(err).toInfo(), loaded: true });
    }
  },
  apply(job) {
    set({ jobs: { ...get().jobs, [job.id]: newerSnapshot(get().jobs[job.id], job) } });
  },
  async cancel(id) {
    get().apply(await berth['jobs.cancel']({ id }));
  },
  async clearFinished() {
    const { removed } = await berth['jobs.clear']({});
    const jobs = Object.fromEntries(Object.entries(get().jobs).filter(([, j]) => !isFinished(j.state)));
    set({ jobs });
    return removed;
  },
}));

/** Newest first. */
export const sortedJobs = (jobs: Record<string, JobSnapshot>): JobSnapshot[] =>
  Object.values(jobs).sort((a, b) => b.createdAt - a.createdAt);

export const activeJobCount = (jobs: Record<string, JobSnapshot>): number =>
  Object.values(jobs).filter((j) => !isFinished(j.state)).length;

/** Resolves when the job finishes (from events), with its final snapshot. */
export function whenFinished(id: string): Promise<JobSnapshot> {
  return new Promise((resolve) => {
    const check = (s: JobsState): boolean => {
      const job = s.jobs[id];
      if (job && isFinished(job.state)) {
        resolve(job);
        return true;
      }
      return false;
    };
    if (check(useJobs.getState())) return;
    const off = useJobs.subscribe((s) => {
      if (check(s)) off();
    });
  });
}

/**
 * Snapshots arrive by two roads (a call's result and `job` events) and can cross: the result of
 * `registry.gc` may land after the event that says the job is done. A job never goes back from
 * finished, and never from running to queued.
 */
export function newerSnapshot(current: JobSnapshot | undefined, incoming: JobSnapshot): JobSnapshot {
  if (!current) return incoming;
  if (isFinished(current.state) && !isFinished(incoming.state)) return current;
  if (current.state === 'running' && incoming.state === 'queued') return current;
  return incoming;
}

/**
 * Long work as jobs: an id, progress (bytes done/total per item and overall, rate, ETA), cancel through
 * an AbortSignal that the work passes down to its sockets and files, and a bounded number running at
 * once. Jobs live in the backend, so they survive the UI navigating away or the window closing.
 */
import { randomUUID } from 'node:crypto';
import type { EventBus } from '../app/events';
import { BerthError, toErrorInfo } from '../../shared/errors';
import { isFinished, type JobItem, type JobKind, type JobSnapshot } from '../../shared/jobs';

export interface JobItemHandle {
  /** Set the bytes done for this item (absolute). The overall total is the sum of items when not set. */
  progress(done: number, total?: number): void;
  status(status: string): void;
}

export interface JobContext {
  signal: AbortSignal;
  /** Overall bytes expected / done. When never set, the job's done/total are summed from its items. */
  setTotal(total: number | undefined): void;
  setDone(done: number): void;
  addDone(delta: number): void;
  item(id: string, label: string, total?: number): JobItemHandle;
  message(text: string): void;
}

export type JobRun<R> = (ctx: JobContext) => Promise<R>;

interface Entry {
  snap: JobSnapshot;
  controller: AbortController;
  run: JobRun<unknown>;
  explicitTotals: boolean;
  settled: Promise<JobSnapshot>;
  resolve: (s: JobSnapshot) => void;
  lastEmit: number;
  emitTimer?: NodeJS.Timeout;
  rateSample: { t: number; done: number };
}

const EMIT_EVERY_MS = 150;

export class JobManager {
  private jobs = new Map<string, Entry>();
  private running = 0;

  constructor(
    private readonly events: EventBus,
    private readonly concurrency = 3,
  ) {}

  /** Queue a job; returns its first snapshot at once. */
  start<R>(kind: JobKind, title: string, run: JobRun<R>): JobSnapshot {
    const id = randomUUID();
    let resolve!: (s: JobSnapshot) => void;
    const settled = new Promise<JobSnapshot>((r) => (resolve = r));
    const entry: Entry = {
      snap: { id, kind, title, state: 'queued', done: 0, items: [], createdAt: Date.now() },
      controller: new AbortController(),
      run: run as JobRun<unknown>,
      explicitTotals: false,
      settled,
      resolve,
      lastEmit: 0,
      rateSample: { t: Date.now(), done: 0 },
    };
    this.jobs.set(id, entry);
    this.emit(entry, true);
    this.pump();
    return structuredClone(entry.snap);
  }

  list(): JobSnapshot[] {
    return [...this.jobs.values()].map((e) => structuredClone(e.snap)).sort((a, b) => b.createdAt - a.createdAt);
  }

  get(id: string): JobSnapshot {
    return structuredClone(this.entry(id).snap);
  }

  /** Resolves when the job has finished (done, failed or cancelled). */
  wait(id: string): Promise<JobSnapshot> {
    return this.entry(id).settled.then((s) => structuredClone(s));
  }

  cancel(id: string): JobSnapshot {
    const e = this.entry(id);
    if (!isFinished(e.snap.state)) {
      e.controller.abort(new BerthError('CANCELLED', 'Cancelled by the user'));
      if (e.snap.state === 'queued') this.finish(e, 'cancelled');
    }
    return structuredClone(e.snap);
  }

  clear(): number {
    let removed = 0;
    for (const [id, e] of this.jobs) {
      if (isFinished(e.snap.state)) {
        this.jobs.delete(id);
        removed++;
      }
    }
    return removed;
  }

  /** Cancel everything (app shutdown) and wait for running work to let go of its files. */
  async close(): Promise<void> {
    const pending = [...this.jobs.values()].filter((e) => !isFinished(e.snap.state));
    for (const e of pending) this.cancel(e.snap.id);
    await Promise.all(pending.map((e) => e.settled));
  }

  private entry(id: string): Entry {
    const e = this.jobs.get(id);
    if (!e) throw new BerthError('NOT_FOUND', `No job with id ${id}`);
    return e;
  }

  private pump(): void {
    for (const e of this.jobs.values()) {
      if (this.running >= this.concurrency) return;
      if (e.snap.state !== 'queued') continue;
      this.running++;
      void this.execute(e);
    }
  }

  private async execute(e: Entry): Promise<void> {
    e.snap.state = 'running';
    e.snap.startedAt = Date.now();
    e.rateSample = { t: Date.now(), done: 0 };
    this.emit(e, true);
    try {
      const result = await e.run(this.contextFor(e));
      if (e.controller.signal.aborted) throw e.controller.signal.reason;
      e.snap.result = result ?? undefined;
      this.finish(e, 'done');
    } catch (err) {
      const info = toErrorInfo(e.controller.signal.aborted ? e.controller.signal.reason : err);
      if (info.code === 'CANCELLED') this.finish(e, 'cancelled');
      else {
        e.snap.error = info;
        this.finish(e, 'failed');
      }
    } finally {
      this.running--;
      this.pump();
    }
  }

  private finish(e: Entry, state: 'done' | 'failed' | 'cancelled'): void {
    e.snap.state = state;
    e.snap.endedAt = Date.now();
    delete e.snap.eta;
    delete e.snap.rate;
    this.emit(e, true);
    e.resolve(e.snap);
  }

  private contextFor(e: Entry): JobContext {
    const s = e.snap;
    const recompute = () => {
      if (e.explicitTotals) return;
      s.done = s.items.reduce((n, i) => n + i.done, 0);
      const totals = s.items.map((i) => i.total);
      s.total = totals.every((t) => t !== undefined) ? totals.reduce<number>((n, t) => n + (t ?? 0), 0) : undefined;
    };
    return {
      signal: e.controller.signal,
      setTotal: (total) => {
        e.explicitTotals = true;
        s.total = total;
        this.emit(e);
      },
      setDone: (done) => {
        e.explicitTotals = true;
        s.done = done;
        this.emit(e);
      },
      addDone: (delta) => {
        e.explicitTotals = true;
        s.done += delta;
        this.emit(e);
      },
      message: (text) => {
        s.message = text;
        this.emit(e);
      },
      item: (id, label, total) => {
        let item: JobItem | undefined = s.items.find((i) => i.id === id);
        if (!item) {
          item = { id, label, done: 0, total, status: 'waiting' };
          s.items.push(item);
        } else if (total !== undefined) item.total = total;
        const it = item;
        recompute();
        this.emit(e);
        return {
          progress: (done, t) => {
            it.done = done;
            if (t !== undefined) it.total = t;
            recompute();
            this.emit(e);
          },
          status: (status) => {
            it.status = status;
            this.emit(e);
          },
        };
      },
    };
  }

  /** Progress events are throttled per job; state changes go out at once. */
  private emit(e: Entry, now = false): void {
    const t = Date.now();
    if (!now && t - e.lastEmit < EMIT_EVERY_MS) {
      e.emitTimer ??= setTimeout(() => {
        e.emitTimer = undefined;
        this.emit(e, true);
      }, EMIT_EVERY_MS);
      return;
    }
    if (e.emitTimer) {
      clearTimeout(e.emitTimer);
      e.emitTimer = undefined;
    }
    e.lastEmit = t;
    this.updateRate(e, t);
    this.events.publish({ type: 'job', job: structuredClone(e.snap) });
  }

  private updateRate(e: Entry, t: number): void {
    const s = e.snap;
    if (s.state !== 'running') return;
    const dt = (t - e.rateSample.t) / 1000;
    if (dt < 0.5) return;
    const instant = (s.done - e.rateSample.done) / dt;
    s.rate = s.rate === undefined ? instant : s.rate * 0.7 + instant * 0.3; // smooth the ETA
    e.rateSample = { t, done: s.done };
    s.eta = s.total !== undefined && s.rate > 0 ? Math.max(0, (s.total - s.done) / s.rate) : undefined;
  }
}

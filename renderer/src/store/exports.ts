/**
 * Exports prepared for a drag out of the window or a download (archive.prepareExport), by selection. The
 * first drag or click prepares one (a job: the Transfers view and the handle show its progress); once
 * ready, dragging or downloading it again reuses the archive until the backend drops it (an hour unused).
 */
import { create } from 'zustand';
import type { PreparedExport, PrepareExportRequest } from '../../../shared/api/archive';
import type { ErrorInfo } from '../../../shared/errors';
import { asBerthError, berth } from '../api';
import { exportKey } from '../lib/export-out';
import { useJobs, whenFinished } from './jobs';

export interface ExportEntry {
  /** The prepare job while it runs (its progress is in the jobs store). */
  jobId?: string;
  ready?: PreparedExport;
  /** When it was prepared or last dragged/downloaded (the backend keeps it an hour after its last use). */
  usedAt?: number;
  error?: ErrorInfo;
}

/** Well inside the backend's hour, so a ready handle never offers an export the backend just dropped. */
const trustReadyMs = 45 * 60_000;

interface ExportsState {
  entries: Record<string, ExportEntry>;
  /** Prepares the selection (or joins the preparation under way); resolves with the export, or undefined when it failed. */
  prepare(sel: PrepareExportRequest): Promise<PreparedExport | undefined>;
  /** The backend no longer has it (expired): the next drag prepares it again. */
  forget(sel: PrepareExportRequest): void;
  /** The ready export, unless it may have expired on the backend (then prepare again). */
  fresh(sel: PrepareExportRequest): PreparedExport | undefined;
  /** It was just dragged out or downloaded: the backend's hour starts again. */
  used(sel: PrepareExportRequest): void;
}

const inFlight = new Map<string, Promise<PreparedExport | undefined>>();

export const useExports = create<ExportsState>((set, get) => {
  const put = (key: string, entry: ExportEntry) => set({ entries: { ...get().entries, [key]: entry } });
  const run = async (key: string, sel: PrepareExportRequest): Promise<PreparedExport | undefined> => {
    put(key, {}); // preparing: the handle shows progress from here on
    try {
      const job = await berth['archive.prepareExport'](sel);
      useJobs.getState().apply(job);
      put(key, { jobId: job.id });
      const done = await whenFinished(job.id);
      if (done.state === 'done') {
        const ready = done.result as PreparedExport;
        put(key, { ready, usedAt: Date.now() });
        return ready;
      }
      put(key, { error: done.error ?? { code: 'CANCELLED', message: 'Cancelled' } });
    } catch (err) {
      put(key, { error: asBerthError(err).toInfo() });
    }
    return undefined;
  };
  return {
    entries: {},
    prepare(sel) {
      const key = exportKey(sel);
      const ready = get().fresh(sel);
      if (ready) return Promise.resolve(ready);
      let pending = inFlight.get(key);
      if (!pending) {
        pending = run(key, sel).finally(() => inFlight.delete(key));
        inFlight.set(key, pending);
      }
      return pending;
    },
    forget(sel) {
      const entries = { ...get().entries };
      delete entries[exportKey(sel)];
      set({ entries });
    },
    fresh(sel) {
      const entry = get().entries[exportKey(sel)];
      return entry?.ready && Date.now() - (entry.usedAt ?? 0) < trustReadyMs ? entry.ready : undefined;
    },
    used(sel) {
      const key = exportKey(sel);
      const entry = get().entries[key];
      if (entry?.ready) put(key, { ...entry, usedAt: Date.now() });
    },
  };
});

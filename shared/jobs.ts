/**
 * Long work is a job: it has an id, reports progress (bytes done/total per item and overall), can be
 * cancelled, and outlives the view that started it. The Transfers view lists every job.
 */
import type { ErrorInfo } from './errors';

export const jobKinds = ['push', 'pull', 'import', 'export', 'copy', 'load', 'save', 'gc', 'fsck', 'prune'] as const;
export type JobKind = (typeof jobKinds)[number];
export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled';

/** One part of a job: a layer, a blob, a file. */
export interface JobItem {
  id: string;
  label: string;
  done: number;
  total?: number;
  /** e.g. 'waiting', 'downloading', 'extracting', 'exists' (skipped because the target had it), 'done' */
  status: string;
}

export interface JobSnapshot {
  id: string;
  kind: JobKind;
  title: string;
  state: JobState;
  /** Bytes (or units) done and expected overall; total is unknown until the job learns it. */
  done: number;
  total?: number;
  items: JobItem[];
  /** ms since epoch */
  createdAt: number;
  startedAt?: number;
  endedAt?: number;
  /** Bytes per second over the recent window, and seconds left at that rate, when known. */
  rate?: number;
  eta?: number;
  message?: string;
  error?: ErrorInfo;
  result?: unknown;
}

export const isFinished = (s: JobState): boolean => s === 'done' || s === 'failed' || s === 'cancelled';

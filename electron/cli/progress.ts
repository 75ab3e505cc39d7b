/**
 * Job progress in a terminal, for every command that waits on a job (import, export, gc, …). On a TTY one
 * line redrawn in place: title, bar, percent, bytes, rate, ETA. Elsewhere (CI logs, pipes) a plain line
 * when the state changes and at most every few seconds, so logs stay readable.
 */
import type { JobSnapshot } from '../../shared/jobs';
import { isFinished } from '../../shared/jobs';
// Sizes, rates and durations read the same in the terminal as in the UI: one pure formatter in shared/.
import { formatBytes, formatDuration } from '../../shared/format';

/** One line describing a snapshot; `width` columns for the bar (0: no bar). */
export function describeProgress(job: JobSnapshot, width = 24): string {
  const parts: string[] = [job.title];
  const { done, total } = job;
  if (total !== undefined && total > 0) {
    const ratio = Math.min(1, done / total);
    if (width > 0) {
      const filled = Math.round(ratio * width);
      parts.push(`[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`);
    }
    parts.push(`${Math.floor(ratio * 100)}%`, `${formatBytes(done)}/${formatBytes(total)}`);
  } else if (done > 0) {
    parts.push(formatBytes(done));
  }
  if (job.state === 'running') {
    if (job.rate) parts.push(`${formatBytes(job.rate)}/s`);
    if (job.eta !== undefined) parts.push(`ETA ${formatDuration(job.eta)}`);
  } else {
    parts.push(job.state === 'failed' && job.error ? `failed: ${job.error.message}` : job.state);
  }
  if (job.message && !isFinished(job.state)) parts.push(`(${job.message})`);
  return parts.join(' ');
}

export interface ProgressOptions {
  tty: boolean;
  /** Raw writes (no newline added); stderr by default. */
  write?: (text: string) => void;
  /** Terminal width; the line is cut to fit so the redraw stays on one line. */
  columns?: number;
  /** Non-TTY: the least time between two plain lines of the same state. */
  plainEveryMs?: number;
  now?: () => number;
}

/** Returns a listener for job snapshots (pass it to waitForJob) that draws progress. */
export function jobProgress(opts: ProgressOptions): (job: JobSnapshot) => void {
  const write = opts.write ?? ((t: string) => void process.stderr.write(t));
  const now = opts.now ?? Date.now;
  const every = opts.plainEveryMs ?? 5000;
  let lastState: string | undefined;
  let lastAt = 0;
  let drawn = false;
  return (job) => {
    const finished = isFinished(job.state);
    if (opts.tty) {
      const columns = opts.columns ?? process.stderr.columns ?? 80;
      const line = describeProgress(job, Math.max(0, Math.min(30, columns - 60))).slice(0, Math.max(10, columns - 1));
      if (drawn && !finished && job.state === lastState && now() - lastAt < 80) return; // redraw ~12 times a second at most
      write(`\r\x1b[2K${line}${finished ? '\n' : ''}`);
      drawn = !finished;
    } else {
      if (job.state === lastState && !finished && now() - lastAt < every) return;
      if (finished && lastState === job.state) return;
      write(`${describeProgress(job, 0)}\n`);
    }
    lastState = job.state;
    lastAt = now();
  };
}

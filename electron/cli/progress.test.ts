import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../shared/jobs';
import { describeProgress, jobProgress } from './progress';

const snap = (patch: Partial<JobSnapshot>): JobSnapshot => ({
  id: 'j1',
  kind: 'import',
  title: 'Import app.tar',
  state: 'running',
  done: 0,
  items: [],
  createdAt: 0,
  ...patch,
});

describe('progress', () => {
  it('describes a running job with bar, percent, bytes, rate and ETA', () => {
    const line = describeProgress(snap({ done: 12_300_000, total: 27_000_000, rate: 5_100_000, eta: 3 }), 10);
    expect(line).toBe('Import app.tar [#####-----] 45% 12.3 MB/27.0 MB 5.10 MB/s ETA 3s');
  });

  it('says why a job failed', () => {
    const line = describeProgress(snap({ state: 'failed', error: { code: 'ARCHIVE_INVALID', message: 'no manifest.json' } }), 0);
    expect(line).toBe('Import app.tar failed: no manifest.json');
  });

  it('on a TTY redraws one line in place and ends it with a newline', () => {
    let out = '';
    let t = 0;
    const show = jobProgress({ tty: true, write: (s) => (out += s), columns: 120, now: () => (t += 100) });
    show(snap({ done: 1, total: 4 }));
    show(snap({ done: 2, total: 4 }));
    show(snap({ state: 'done', done: 4, total: 4 }));
    expect(out.split('\r\x1b[2K')).toHaveLength(4);
    expect(out.endsWith('done\n')).toBe(true);
    expect(out.slice(0, -1)).not.toContain('\n');
  });

  it('in a log prints state changes and throttles the rest', () => {
    const lines: string[] = [];
    let t = 0;
    const show = jobProgress({ tty: false, write: (s) => lines.push(s), plainEveryMs: 5000, now: () => t });
    show(snap({ state: 'queued' }));
    show(snap({ done: 1, total: 10 }));
    t = 1000;
    show(snap({ done: 2, total: 10 })); // throttled
    t = 7000;
    show(snap({ done: 8, total: 10 }));
    show(snap({ state: 'done', done: 10, total: 10 }));
    show(snap({ state: 'done', done: 10, total: 10 })); // a repeated final snapshot prints nothing
    expect(lines).toEqual([
      'Import app.tar queued\n',
      'Import app.tar 10% 1 B/10 B\n',
      'Import app.tar 80% 8 B/10 B\n',
      'Import app.tar 100% 10 B/10 B done\n',
    ]);
  });
});

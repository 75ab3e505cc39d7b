/** Every job: progress with bytes, rate and ETA, per-item rows, errors, cancel, clear finished. */
import { useState } from 'react';
import { isFinished, type JobSnapshot } from '../../../shared/jobs';
import { Empty, ErrorNote, ProgressBar } from '../components/Bits';
import { formatBytes, formatDuration, formatRate, formatRelative, percent } from '../../../shared/format';
import { sortedJobs, useJobs } from '../store/jobs';
import { toastError } from '../store/toasts';
import { transport } from '../api';
import type { PreparedExport } from '../../../shared/api/archive';

const stateBadge: Record<JobSnapshot['state'], string> = { queued: '', running: 'info', done: 'ok', failed: 'danger', cancelled: 'warn' };

export function TransfersView() {
  const { jobs, error, loaded, clearFinished } = useJobs();
  const list = sortedJobs(jobs);
  const finished = list.filter((j) => isFinished(j.state)).length;
  return (
    <section className="view" aria-label="Transfers">
      <div className="view-head">
        <h1>Transfers</h1>
        <span className="muted small">{list.length > 0 ? `${list.length - finished} active · ${finished} finished` : ''}</span>
        <span className="spacer" />
        <button type="button" className="btn" disabled={finished === 0} onClick={() => clearFinished().catch((e: unknown) => toastError(e, 'Clear finished'))}>
          Clear finished
        </button>
      </div>
      {error && <ErrorNote error={error} what="Jobs" />}
      {loaded && list.length === 0 && !error && (
        <Empty title="No transfers yet">
          <p>Imports, exports and registry clean-ups show here with their progress. Drop an image archive on the window to start one.</p>
        </Empty>
      )}
      <ul className="list-plain stack" aria-label="Jobs">
        {list.map((j) => (
          <li key={j.id}>
            <JobCard job={j} />
          </li>
        ))}
      </ul>
    </section>
  );
}

/** Kinds whose progress counts bytes; the others (gc, fsck, prune) count items. */
const byteKinds = new Set<JobSnapshot['kind']>(['push', 'pull', 'import', 'export', 'copy', 'load', 'save']);

export function JobCard({ job }: { job: JobSnapshot }) {
  const cancel = useJobs((s) => s.cancel);
  const amount = byteKinds.has(job.kind) ? formatBytes : (n: number) => n.toLocaleString('en');
  const [open, setOpen] = useState(false);
  const active = !isFinished(job.state);
  const pct = percent(job.done, job.total);
  return (
    <article className="card job" aria-label={job.title}>
      <div className="row">
        <span className="badge">{job.kind}</span>
        <strong style={{ flex: 1 }}>{job.title}</strong>
        <span className={`badge ${stateBadge[job.state]}`}>{job.state}</span>
        {active && (
          <button type="button" className="btn small danger" aria-label={`Cancel ${job.title}`} onClick={() => cancel(job.id).catch((e: unknown) => toastError(e, 'Cancel'))}>
            Cancel
          </button>
        )}
      </div>
      <ProgressBar done={job.done} total={job.total} state={job.state} label={`Progress of ${job.title}`} />
      <div className="row small muted">
        <span>
          {amount(job.done)}
          {job.total !== undefined ? ` of ${amount(job.total)}` : ''}
          {pct !== undefined && active ? ` (${Math.floor(pct)}%)` : ''}
        </span>
        {active && job.rate !== undefined && byteKinds.has(job.kind) && <span>{formatRate(job.rate)}</span>}
        {active && job.eta !== undefined && <span>{formatDuration(job.eta)} left</span>}
        {!active && job.startedAt && job.endedAt && <span>took {formatDuration((job.endedAt - job.startedAt) / 1000)}</span>}
        <span className="spacer" />
        <span>{formatRelative(job.createdAt)}</span>
      </div>
      {job.message && <div className="small">{job.message}</div>}
      {job.state === 'done' && isPreparedExport(job.result) && <PreparedExportLink prepared={job.result} />}
      {job.error && job.state !== 'cancelled' && (
        <div className="note error" role="alert">
          {job.error.message}
        </div>
      )}
      {job.items.length > 0 && (
        <div className="job-items">
          <button type="button" className="btn link" aria-expanded={open} onClick={() => setOpen(!open)}>
            {open ? 'Hide' : 'Show'} {job.items.length} {job.items.length === 1 ? 'item' : 'items'}
          </button>
          {open && (
            <table className="grid" aria-label={`Items of ${job.title}`}>
              <tbody>
                {job.items.map((it) => (
                  <tr key={it.id}>
                    <td className="mono">{it.label}</td>
                    <td>{it.status}</td>
                    <td style={{ width: 160 }}>
                      <ProgressBar done={it.done} total={it.total} state={it.status === 'done' || it.status === 'exists' ? 'done' : undefined} label={`Progress of ${it.label}`} />
                    </td>
                    <td className="num">
                      {formatBytes(it.done)}
                      {it.total !== undefined ? ` / ${formatBytes(it.total)}` : ''}
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          )}
        </div>
      )}
    </article>
  );
}

const isPreparedExport = (r: unknown): r is PreparedExport =>
  typeof r === 'object' && r !== null && typeof (r as PreparedExport).id === 'string' && typeof (r as PreparedExport).name === 'string' && typeof (r as PreparedExport).size === 'number';

/**
 * A finished preparation (archive.prepareExport) can still leave the app from here: a download in the
 * browser, a drag to the desktop in the app. The cache keeps it an hour after its last use; past that the
 * backend answers 404 / NOT_FOUND and the handles in the Images and Registry views prepare it again.
 */
function PreparedExportLink({ prepared }: { prepared: PreparedExport }) {
  const out = transport.exportOut;
  if (!out) return null;
  const label = `${prepared.name} (${formatBytes(prepared.size)})`;
  if (out.kind === 'download') {
    return (
      <div className="row small">
        <a className="btn small" href={out.url(prepared.id)} download={prepared.name} aria-label={`Download ${prepared.name}`}>
          ⤓ Download {label}
        </a>
      </div>
    );
  }
  return (
    <div className="row small">
      <span
        className="btn small"
        draggable
        role="button"
        aria-label={`Drag ${prepared.name} out`}
        title="Drag to the desktop or a folder"
        onDragStart={(e) => {
          e.preventDefault(); // the main process starts a native drag of the file itself
          out.startDrag(prepared.id).then(
            (env) => {
              if (!env.ok) toastError(env.error, 'Drag out');
            },
            (err) => toastError(err, 'Drag out'),
          );
        }}
      >
        ⠿ Drag out {label}
      </span>
    </div>
  );
}

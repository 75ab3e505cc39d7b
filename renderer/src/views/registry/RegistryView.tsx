/**
 * The embedded registry: status (start/stop, error with a free port to try), storage with "Reclaim space",
 * copy-paste snippets for this registry's address, and the repository browser.
 */
import { useState } from 'react';
import type { GcReport } from '../../../../shared/api/registry';
import { ErrorNote } from '../../components/Bits';
import { CopyButton } from '../../components/CopyButton';
import { formatBytes, formatDuration, plural } from '../../../../shared/format';
import { registrySnippets } from '../../lib/snippets';
import { useApp } from '../../store/app';
import { useJobs, whenFinished } from '../../store/jobs';
import { useRegistry } from '../../store/registry';
import { toastError, toastOk } from '../../store/toasts';
import { RepositoryBrowser } from './RepositoryBrowser';

export function RegistryView() {
  const r = useRegistry();
  return (
    <section className="view" aria-label="Registry">
      <div className="view-head">
        <h1>Registry</h1>
        <span className="spacer" />
        <button type="button" className="btn" onClick={() => void r.refresh()} aria-label="Refresh registry">
          Refresh
        </button>
      </div>
      <div className="cards">
        <StatusCard />
        <StorageCard />
        <SnippetsCard />
      </div>
      <RepositoryBrowser />
    </section>
  );
}

function StatusCard() {
  const { status, busy, start, stop } = useRegistry();
  const updateSettings = useApp((s) => s.updateSettings);
  const st = status.data;
  const act = async (what: () => Promise<void>) => {
    try {
      await what();
    } catch (err) {
      toastError(err, 'Registry');
    }
  };
  return (
    <div className="card" aria-label="Registry status">
      <h2>Status</h2>
      {status.error && !st && <ErrorNote error={status.error} what="Registry status" />}
      {st && (
        <>
          <div className="row">
            <span className={`badge ${st.running ? 'ok' : 'danger'}`}>{st.running ? 'running' : 'stopped'}</span>
            <code className="big">{st.address}</code>
            <CopyButton text={st.address} label="Copy registry address" />
          </div>
          <div className="muted small">
            Listening on {st.host}:{st.port}
          </div>
          {st.error && (
            <div className="note error" role="alert">
              {st.error}
              {st.suggestedPort !== undefined && (
                <div className="row" style={{ marginTop: 6 }}>
                  <button
                    type="button"
                    className="btn small"
                    onClick={() =>
                      act(async () => {
                        await updateSettings({ registry: { port: st.suggestedPort } });
                        await start();
                      })
                    }
                  >
                    Use port {st.suggestedPort}
                  </button>
                </div>
              )}
            </div>
          )}
          <div className="row">
            {st.running ? (
              <button type="button" className="btn" disabled={busy} onClick={() => act(stop)}>
                Stop
              </button>
            ) : (
              <button type="button" className="btn primary" disabled={busy} onClick={() => act(start)}>
                Start
              </button>
            )}
          </div>
        </>
      )}
    </div>
  );
}

function StorageCard() {
  const { usage, gc } = useRegistry();
  const [running, setRunning] = useState(false);
  const [report, setReport] = useState<GcReport>();
  const u = usage.data;
  const reclaim = async () => {
    setRunning(true);
    setReport(undefined);
    try {
      const job = await gc();
      useJobs.getState().apply(job);
      const done = await whenFinished(job.id);
      if (done.state === 'done') {
        const rep = done.result as GcReport | undefined;
        setReport(rep);
        toastOk(`Reclaimed ${formatBytes(rep?.bytesFreed ?? 0)}`);
        void useRegistry.getState().refresh();
      } else if (done.error) {
        toastError(done.error, 'Reclaim space');
      }
    } catch (err) {
      toastError(err, 'Reclaim space');
    } finally {
      setRunning(false);
    }
  };
  return (
    <div className="card" aria-label="Storage">
      <h2>Storage</h2>
      {usage.error && !u && <ErrorNote error={usage.error} what="Disk use" />}
      {u && (
        <>
          <div className="big">{formatBytes(u.totalBytes)}</div>
          <dl className="kv">
            <dt>Blobs</dt>
            <dd>{u.blobCount}</dd>
            <dt>Reclaimable</dt>
            <dd>{formatBytes(u.unreferencedBytes)}</dd>
            <dt>Open uploads</dt>
            <dd>{formatBytes(u.uploadsBytes)}</dd>
          </dl>
        </>
      )}
      <div className="row">
        <button type="button" className="btn" disabled={running || !u} onClick={() => void reclaim()}>
          {running ? 'Reclaiming…' : 'Reclaim space'}
        </button>
      </div>
      {report && (
        <p className="small" role="status">
          Freed {formatBytes(report.bytesFreed)} ({plural(report.blobsRemoved, 'blob')}, {plural(report.manifestsRemoved, 'manifest')}, {plural(report.uploadsExpired, 'expired upload')}) in{' '}
          {formatDuration(report.durationMs / 1000)}.{report.keptYoung > 0 ? ` Kept ${plural(report.keptYoung, 'recent blob')} still in their grace period.` : ''}
        </p>
      )}
    </div>
  );
}

function SnippetsCard() {
  const { status, repositories, selectedRepo } = useRegistry();
  const [chosen, setChosen] = useState<string>();
  const repo = chosen ?? selectedRepo ?? repositories.data?.[0]?.name;
  const address = status.data?.address;
  if (!address) return null;
  return (
    <div className="card" aria-label="Commands">
      <div className="row">
        <h2>Commands</h2>
        <span className="spacer" />
        <label className="small muted" htmlFor="snippet-repo">
          Repository
        </label>
        <input
          id="snippet-repo"
          className="input small"
          list="snippet-repos"
          value={repo ?? ''}
          placeholder="my-image"
          onChange={(e) => setChosen(e.target.value)}
          style={{ width: 150 }}
        />
        <datalist id="snippet-repos">
          {repositories.data?.map((r) => (
            <option key={r.name} value={r.name} />
          ))}
        </datalist>
      </div>
      {registrySnippets(address, repo).map((s) => (
        <div key={s.label} className="snippet">
          <code title={s.label}>{s.command}</code>
          <CopyButton text={s.command} label={`Copy ${s.label.toLowerCase()} command`} />
        </div>
      ))}
    </div>
  );
}

/** The five views, their shortcuts (1–5), a count of running jobs, and which engine is connected. */
import { useEngine } from '../store/engine';
import { activeJobCount, useJobs } from '../store/jobs';
import { useRegistry } from '../store/registry';
import { useUi, views, viewTitles } from '../store/ui';
import { useApp } from '../store/app';

export function Sidebar({ onImport }: { onImport: () => void }) {
  const { view, setView } = useUi();
  const running = useJobs((s) => activeJobCount(s.jobs));
  const engine = useEngine((s) => s.status);
  const registry = useRegistry((s) => s.status.data);
  const info = useApp((s) => s.info);
  return (
    <nav className="sidebar" aria-label="Views">
      <div className="brand">
        Berth
        <small>{info ? `v${info.version} · ${info.mode === 'serve' ? 'browser' : 'desktop'}` : '\u00a0'}</small>
      </div>
      {views.map((v, i) => (
        <button key={v} type="button" className="nav-item" aria-current={view === v ? 'page' : undefined} aria-keyshortcuts={String(i + 1)} onClick={() => setView(v)}>
          {viewTitles[v]}
          {v === 'transfers' && running > 0 && (
            <span className="nav-count" aria-label={`${running} running`} title={`${running} running`}>
              {running}
            </span>
          )}
          <kbd aria-hidden="true">{i + 1}</kbd>
        </button>
      ))}
      <button type="button" className="btn" style={{ margin: '12px 4px 0' }} aria-keyshortcuts="i" onClick={onImport} title="Or drop archives anywhere on the window">
        Import archive… <kbd aria-hidden="true">i</kbd>
      </button>
      <div className="sidebar-foot" aria-label="Connections">
        <div title={engine?.endpoint ? `${engine.endpoint.address} (${engine.endpoint.source})` : undefined}>
          <span className={`dot ${engine?.connected ? 'ok' : engine ? 'bad' : ''}`} />
          {engine?.connected ? `${engine.name ?? 'Engine'} ${engine.version ?? ''}` : engine ? 'No engine' : 'Engine…'}
          {engine?.connected && (
            <div className="muted">
              API {engine.apiVersion} · {engine.os}/{engine.arch}
            </div>
          )}
        </div>
        <div>
          <span className={`dot ${registry?.running ? 'ok' : registry ? 'bad' : ''}`} />
          {registry?.running ? `Registry ${registry.address}` : registry ? 'Registry stopped' : 'Registry…'}
        </div>
      </div>
    </nav>
  );
}

/** Registry host/port/autostart, and what this app is (version, data directory, mode). */
import { useState } from 'react';
import type { AppInfo, Settings } from '../../../shared/api/app';
import { ErrorNote, Loading } from '../components/Bits';
import { Copyable } from '../components/CopyButton';
import { asBerthError } from '../api';
import { useApp } from '../store/app';
import { useRegistry } from '../store/registry';
import { toastOk } from '../store/toasts';
import { isLoopback } from '../../../shared/loopback';

export function SettingsView() {
  const { info, settings, error } = useApp();
  return (
    <section className="view" aria-label="Settings">
      <div className="view-head">
        <h1>Settings</h1>
      </div>
      {error && <ErrorNote error={error} what="Settings" />}
      {!settings && !error && <Loading what="settings" />}
      {/* Keyed by the saved values: the form starts from them again after every save. */}
      {settings && <RegistrySettingsForm key={JSON.stringify(settings.registry)} saved={settings} />}
      {info && <About info={info} />}
    </section>
  );
}

function RegistrySettingsForm({ saved }: { saved: Settings }) {
  const updateSettings = useApp((s) => s.updateSettings);
  const [host, setHost] = useState(saved.registry.host);
  const [port, setPort] = useState(String(saved.registry.port));
  const [autoStart, setAutoStart] = useState(saved.registry.autoStart);
  const [busy, setBusy] = useState(false);
  const [saveError, setSaveError] = useState<string>();

  const portNum = Number(port);
  const portProblem = !/^\d+$/.test(port) || portNum < 1 || portNum > 65535 ? 'A port is a number from 1 to 65535.' : undefined;
  const hostProblem = host.trim() === '' ? 'Enter an address to listen on, e.g. 127.0.0.1.' : undefined;
  const exposed = host.trim() !== '' && !isLoopback(host);
  const dirty = host !== saved.registry.host || portNum !== saved.registry.port || autoStart !== saved.registry.autoStart;

  return (
    <form
      className="card stack"
      style={{ maxWidth: 560 }}
      aria-label="Registry settings"
      onSubmit={async (e) => {
        e.preventDefault();
        if (portProblem || hostProblem) return;
        setBusy(true);
        setSaveError(undefined);
        try {
          await updateSettings({ registry: { host: host.trim(), port: portNum, autoStart } });
          void useRegistry.getState().refresh();
          toastOk('Settings saved');
        } catch (err) {
          setSaveError(asBerthError(err).message);
        } finally {
          setBusy(false);
        }
      }}
    >
      <h2>Embedded registry</h2>
      <div className="field">
        <label htmlFor="settings-host">Listen address</label>
        <input id="settings-host" className="input mono" value={host} onChange={(e) => setHost(e.target.value)} aria-invalid={hostProblem !== undefined} />
        {hostProblem && <span className="field-error">{hostProblem}</span>}
        {exposed && !hostProblem && (
          <span className="field-hint">
            Other machines on your network can reach the registry on this address, and Docker treats it as insecure (only 127.0.0.0/8 is exempt) unless it is configured.
          </span>
        )}
      </div>
      <div className="field">
        <label htmlFor="settings-port">Port</label>
        <input id="settings-port" className="input mono" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} aria-invalid={portProblem !== undefined} style={{ width: 120 }} />
        {portProblem && <span className="field-error">{portProblem}</span>}
      </div>
      <label className="row">
        <input type="checkbox" checked={autoStart} onChange={(e) => setAutoStart(e.target.checked)} /> Start the registry with Berth
      </label>
      {saveError && (
        <div className="note error" role="alert">
          {saveError}
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn primary" disabled={busy || !dirty || portProblem !== undefined || hostProblem !== undefined}>
          {busy ? 'Saving…' : 'Save'}
        </button>
      </div>
    </form>
  );
}

function About({ info }: { info: AppInfo }) {
  return (
    <div className="card" style={{ maxWidth: 560 }} aria-label="About">
      <h2>About</h2>
      <dl className="kv">
        <dt>Version</dt>
        <dd>{info.version}</dd>
        <dt>Mode</dt>
        <dd>{info.mode === 'serve' ? 'berth serve (in a browser)' : 'desktop app'}</dd>
        <dt>Data directory</dt>
        <dd>
          <Copyable text={info.dataDir} label="Copy data directory" />
        </dd>
        <dt>Platform</dt>
        <dd>{info.platform}</dd>
      </dl>
    </div>
  );
}

/**
 * When no engine answers: what went wrong, what to do, and a retry. The backend keeps watching and the
 * banner disappears by itself (an `engine.status` event) when the engine returns.
 */
import { useEngine } from '../store/engine';
import { useConnection } from '../store/events';

export function EngineBanner() {
  const { status, checking, load } = useEngine();
  const connection = useConnection();
  if (connection.unauthorized) {
    return (
      <div className="banner danger" role="alert" aria-label="Access">
        <div>
          <strong>This page has no valid access token.</strong>
          Open the URL that <code>berth serve</code> printed (it ends in <code>#token=…</code>); the token changes every time Berth starts.
        </div>
      </div>
    );
  }
  if (connection.everConnected && !connection.connected) {
    return (
      <div className="banner danger" role="alert" aria-label="Backend connection">
        <div>
          <strong>Lost the connection to the Berth backend.</strong>
          Reconnecting… If you stopped <code>berth serve</code>, start it again and open the URL it prints.
        </div>
      </div>
    );
  }
  if (status?.connected && status.warning) {
    return (
      <div className="banner warn" role="alert" aria-label="Engine status">
        <div style={{ flex: 1 }}>
          <strong>Not the engine you configured.</strong>
          <div>{status.warning}</div>
        </div>
        <button type="button" className="btn" disabled={checking} onClick={() => void load(true)}>
          {checking ? 'Checking…' : 'Retry now'}
        </button>
      </div>
    );
  }
  if (!status || status.connected) return null;
  const tried = status.tried?.map((t) => `${t.address} (${t.source})`).join(', ');
  return (
    <div className="banner warn" role="alert" aria-label="Engine status">
      <div style={{ flex: 1 }}>
        <strong>No Docker engine is answering.</strong>
        {status.error && <div>{status.error}</div>}
        <div>{status.hint ?? 'Start Docker (or Podman with its Docker-compatible socket), or set DOCKER_HOST, then retry. Berth reconnects by itself when the engine returns.'}</div>
        {tried && <div className="muted small">Tried: {tried}</div>}
      </div>
      <button type="button" className="btn" disabled={checking} onClick={() => void load(true)}>
        {checking ? 'Checking…' : 'Retry now'}
      </button>
    </div>
  );
}

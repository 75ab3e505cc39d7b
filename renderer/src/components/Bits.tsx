/** Small shared pieces: progress bar, empty state, error note, a loading line. */
import type { ReactNode } from 'react';
import type { ErrorInfo } from '../../../shared/errors';
import { percent } from '../../../shared/format';

export function ProgressBar({ done, total, state, label }: { done: number; total?: number; state?: string; label: string }) {
  const pct = percent(done, total);
  const cls = state === 'failed' || state === 'cancelled' ? ' failed' : state === 'done' ? ' done' : pct === undefined ? ' indeterminate' : '';
  const shown = state === 'done' ? 100 : pct;
  return (
    <div
      className={`progress${cls}`}
      role="progressbar"
      aria-label={label}
      aria-valuemin={0}
      aria-valuemax={100}
      aria-valuenow={shown === undefined ? undefined : Math.round(shown)}
    >
      <div style={shown === undefined ? undefined : { width: `${shown}%` }} />
    </div>
  );
}

export function Empty({ title, children }: { title: string; children?: ReactNode }) {
  return (
    <div className="empty">
      <h2>{title}</h2>
      {children}
    </div>
  );
}

/**
 * An error from the backend, as a person reads it. A method whose backend is still a placeholder says
 * plainly that this part is not built yet.
 */
export function ErrorNote({ error, what }: { error: ErrorInfo; what?: string }) {
  const notBuilt = /not built yet/i.test(error.message);
  return (
    <div className="note error" role="alert">
      {notBuilt ? (
        <>
          <strong>{what ? `${what}: not available yet.` : 'Not available yet.'}</strong> This part of the Berth backend is not built in this version.
        </>
      ) : (
        <>
          {what && <strong>{what}: </strong>}
          {error.message}
        </>
      )}
    </div>
  );
}

export function Loading({ what }: { what: string }) {
  return (
    <p className="muted" role="status">
      Loading {what}…
    </p>
  );
}

/** Prune dangling images after a confirm, then say how much space came back. */
import { useState } from 'react';
import { Dialog } from '../../components/Dialog';
import { asBerthError } from '../../api';
import { formatBytes, plural } from '../../../../shared/format';
import { useImages } from '../../store/images';

export function PruneDialog({ danglingCount, onClose }: { danglingCount: number; onClose: () => void }) {
  const prune = useImages((s) => s.prune);
  const [busy, setBusy] = useState(false);
  const [result, setResult] = useState<{ deleted: string[]; spaceReclaimed: number }>();
  const [error, setError] = useState<string>();
  return (
    <Dialog
      title="Prune dangling images?"
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {result ? 'Close' : 'Cancel'}
          </button>
          {!result && (
            <button
              type="button"
              className="btn danger solid"
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(undefined);
                try {
                  setResult(await prune());
                } catch (err) {
                  setError(asBerthError(err).message);
                } finally {
                  setBusy(false);
                }
              }}
            >
              {busy ? 'Pruning…' : 'Prune'}
            </button>
          )}
        </>
      }
    >
      {!result && (
        <p>
          Removes images without a tag that no container uses ({plural(danglingCount, 'dangling image')} listed now). Tagged images are kept.
        </p>
      )}
      {result && (
        <p role="status">
          Removed {plural(result.deleted.length, 'image')}; reclaimed <strong>{formatBytes(result.spaceReclaimed)}</strong>.
        </p>
      )}
      {error && (
        <div className="note error" role="alert">
          {error}
        </div>
      )}
    </Dialog>
  );
}

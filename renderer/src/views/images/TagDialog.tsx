/**
 * Tag an image. The target is checked as it is typed with the same grammar docker uses
 * (shared/reference.ts); while it is invalid the reason is shown and nothing can be sent.
 */
import { useState } from 'react';
import type { ImageSummary } from '../../../../shared/api/engine';
import { parseTagTarget } from '../../../../shared/reference';
import { Dialog } from '../../components/Dialog';
import { displayName } from '../../lib/images';
import { asBerthError } from '../../api';
import { useImages } from '../../store/images';
import { toastOk } from '../../store/toasts';

export function TagDialog({ image, onClose }: { image: ImageSummary; onClose: () => void }) {
  const tag = useImages((s) => s.tag);
  const current = displayName(image);
  const [target, setTarget] = useState(current.endsWith(':<none>') ? '' : current);
  const [busy, setBusy] = useState(false);
  const [serverError, setServerError] = useState<string>();
  const parsed = parseTagTarget(target.trim());
  const reason = parsed.ok ? undefined : parsed.error.reason;
  const unchanged = parsed.ok && image.repoTags.includes(parsed.value.familiar);

  const submit = async () => {
    if (!parsed.ok || busy) return;
    setBusy(true);
    setServerError(undefined);
    try {
      const reference = await tag(image.id, target.trim());
      toastOk(`Tagged ${current} as ${reference}`);
      onClose();
    } catch (err) {
      setServerError(asBerthError(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Tag ${current}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="tag-form" className="btn primary" disabled={!parsed.ok || busy || unchanged}>
            {busy ? 'Tagging…' : 'Add tag'}
          </button>
        </>
      }
    >
      <form
        id="tag-form"
        className="field"
        onSubmit={(e) => {
          e.preventDefault();
          void submit();
        }}
      >
        <label htmlFor="tag-target">New reference</label>
        <input
          id="tag-target"
          className="input mono"
          autoFocus
          spellCheck={false}
          autoComplete="off"
          value={target}
          aria-invalid={!parsed.ok && target !== ''}
          aria-describedby="tag-target-help"
          onChange={(e) => {
            setTarget(e.target.value);
            setServerError(undefined);
          }}
          placeholder="localhost:5000/app:1.0"
        />
        <div id="tag-target-help" aria-live="polite">
          {reason && target !== '' ? (
            <span className="field-error" role="alert">
              {reason}
            </span>
          ) : parsed.ok ? (
            <span className="field-hint">
              {unchanged ? 'The image already has this tag.' : <>Will be tagged <code>{parsed.value.familiar}</code></>}
            </span>
          ) : (
            <span className="field-hint">[registry[:port]/]name[:tag] — the tag defaults to latest.</span>
          )}
        </div>
        {serverError && (
          <div className="note error" role="alert">
            {serverError}
          </div>
        )}
      </form>
    </Dialog>
  );
}

/**
 * Remove one or more images after a confirm. When the engine refuses because containers use an image
 * (CONFLICT), the dialog names those containers and offers to force the removal.
 */
import { useState } from 'react';
import type { ContainerRef, ImageSummary } from '../../../../shared/api/engine';
import { Dialog } from '../../components/Dialog';
import { asBerthError } from '../../api';
import { containersFromDetail } from '../../lib/conflict';
import { displayName } from '../../lib/images';
import { plural, shortId } from '../../../../shared/format';
import { useImages } from '../../store/images';
import { toastOk } from '../../store/toasts';

interface Outcome {
  image: ImageSummary;
  state: 'pending' | 'removed' | 'conflict' | 'failed';
  message?: string;
  containers?: ContainerRef[];
}

export function RemoveDialog({ images, onClose }: { images: ImageSummary[]; onClose: () => void }) {
  const remove = useImages((s) => s.remove);
  const [busy, setBusy] = useState(false);
  const [outcomes, setOutcomes] = useState<Outcome[]>(images.map((image) => ({ image, state: 'pending' })));
  const blocked = outcomes.filter((o) => o.state === 'conflict' || o.state === 'failed');
  const attempted = outcomes.some((o) => o.state !== 'pending');

  const run = async (force: boolean) => {
    setBusy(true);
    const next: Outcome[] = [];
    for (const o of outcomes) {
      if (o.state === 'removed') {
        next.push(o);
        continue;
      }
      // An image with several tags is removed with all of them (the dialog says so): the engine wants
      // force for that, which is safe only when no container uses the image.
      const allTags = o.image.repoTags.filter((t) => t !== '<none>:<none>').length > 1 && o.image.containers === 0;
      try {
        await remove(o.image.id, force || allTags);
        next.push({ image: o.image, state: 'removed' });
      } catch (err) {
        const e = asBerthError(err);
        next.push({ image: o.image, state: e.code === 'CONFLICT' ? 'conflict' : 'failed', message: e.message, containers: containersFromDetail(e.detail) });
      }
    }
    setOutcomes(next);
    setBusy(false);
    const removed = next.filter((o) => o.state === 'removed').length;
    if (next.every((o) => o.state === 'removed')) {
      toastOk(`Removed ${images.length === 1 ? displayName(images[0]) : plural(removed, 'image')}`);
      onClose();
    }
  };

  const what = images.length === 1 ? displayName(images[0]) : plural(images.length, 'image');
  const forceable = blocked.some((o) => o.state === 'conflict');

  return (
    <Dialog
      title={`Remove ${what}?`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            {attempted ? 'Close' : 'Cancel'}
          </button>
          {!attempted && (
            <button type="button" className="btn danger solid" disabled={busy} onClick={() => void run(false)}>
              {busy ? 'Removing…' : 'Remove'}
            </button>
          )}
          {forceable && (
            <button type="button" className="btn danger solid" disabled={busy} onClick={() => void run(true)}>
              {busy ? 'Removing…' : 'Force remove'}
            </button>
          )}
        </>
      }
    >
      {!attempted && (
        <p>
          This removes {images.length === 1 ? `the image and ${tagCount(images[0])}` : 'these images and all their tags'} from the engine. Layers still used by other images stay.
        </p>
      )}
      <ul className="list-plain" aria-label="Images to remove">
        {outcomes.map((o) => (
          <li key={o.image.id}>
            <strong>{displayName(o.image)}</strong> <code className="muted">{shortId(o.image.id)}</code>{' '}
            {o.state === 'removed' && <span className="badge ok">removed</span>}
            {o.state === 'conflict' && (
              <div className="note warn" role="alert">
                {o.containers && o.containers.length > 0 ? (
                  <>
                    In use by {o.containers.length === 1 ? 'container' : 'containers'}{' '}
                    {o.containers.map((c, i) => (
                      <span key={c.id}>
                        {i > 0 && ', '}
                        <strong>{c.name}</strong>
                        {c.state && <span className="muted"> ({c.state})</span>}
                      </span>
                    ))}
                    . Remove {o.containers.length === 1 ? 'it' : 'them'} first, or force: the image is untagged and removed, {o.containers.length === 1 ? 'the container keeps' : 'the containers keep'} running on its layers.
                  </>
                ) : (
                  o.message
                )}
              </div>
            )}
            {o.state === 'failed' && (
              <div className="note error" role="alert">
                {o.message}
              </div>
            )}
          </li>
        ))}
      </ul>
    </Dialog>
  );
}

function tagCount(img: ImageSummary): string {
  const n = img.repoTags.filter((t) => t !== '<none>:<none>').length;
  return n === 0 ? 'nothing else (it has no tag)' : n === 1 ? 'its tag' : `all ${n} of its tags`;
}

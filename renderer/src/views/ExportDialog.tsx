/**
 * Export images (from the engine or the embedded registry) to an archive at a path on the backend's
 * machine. The export runs as a job; the Transfers view follows it. In a browser (`berth serve`) the
 * default is a download to this computer; the path on the server stays as the other choice.
 */
import { useState } from 'react';
import { asBerthError, berth, transport } from '../api';
import { Dialog } from '../components/Dialog';
import { ExportOut } from '../components/ExportOut';
import { plural } from '../../../shared/format';
import { useJobs } from '../store/jobs';
import { toastOk } from '../store/toasts';
import { useApp } from '../store/app';

export function ExportDialog({ from, images, onClose }: { from: 'engine' | 'registry'; images: string[]; onClose: () => void }) {
  const info = useApp((s) => s.info);
  const base = (images[0] ?? 'image').replace(/^.*\//, '').replace(/[:@]/g, '-');
  const [path, setPath] = useState(info ? `${info.dataDir}/${base}.tar` : '');
  const [format, setFormat] = useState<'oci' | 'docker'>(from === 'registry' ? 'oci' : 'docker');
  const [referrers, setReferrers] = useState(true);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const download = transport.exportOut?.kind === 'download';
  const pathProblem = path.trim() === '' ? 'Enter where to write the archive.' : !/\.(tar|tgz|tar\.gz)$/.test(path.trim()) ? 'The file name should end in .tar' : undefined;

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const job = await berth['archive.export']({ from, images, format, path: path.trim(), ...(from === 'registry' ? { referrers } : {}) });
      useJobs.getState().apply(job);
      toastOk(`Exporting ${plural(images.length, 'image')} — follow it in Transfers`);
      onClose();
    } catch (err) {
      setError(asBerthError(err).message);
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      title={`Export ${images.length === 1 ? images[0] : plural(images.length, 'image')}`}
      onClose={onClose}
      footer={
        <>
          <button type="button" className="btn" onClick={onClose}>
            Cancel
          </button>
          <button type="submit" form="export-form" className={download ? 'btn' : 'btn primary'} disabled={busy || pathProblem !== undefined}>
            {busy ? 'Starting…' : download ? 'Export to path' : 'Export'}
          </button>
          {download && (
            <ExportOut
              primary
              selection={from === 'engine' ? { from, images, format } : { from, images, format, referrers }}
              label={images.length === 1 ? images[0] : plural(images.length, 'image')}
            />
          )}
        </>
      }
    >
      <form
        id="export-form"
        className="stack"
        onSubmit={(e) => {
          e.preventDefault();
          if (!pathProblem) void submit();
        }}
      >
        {download && <p className="muted small">Download saves the archive on this computer; Export to path writes it on the machine running berth serve.</p>}
        <div className="field">
          <label htmlFor="export-path">Archive path {info?.mode === 'serve' ? '(on the machine running berth serve)' : ''}</label>
          <input id="export-path" className="input mono" value={path} onChange={(e) => setPath(e.target.value)} aria-invalid={pathProblem !== undefined} spellCheck={false} />
          {pathProblem && <span className="field-error">{pathProblem}</span>}
        </div>
        <div className="field">
          <label htmlFor="export-format">Format</label>
          <select id="export-format" className="input" value={format} onChange={(e) => setFormat(e.target.value as 'oci' | 'docker')}>
            {from === 'engine' ? (
              <>
                <option value="docker">docker save, as the engine writes it</option>
                <option value="oci">OCI archive (index.json + manifest.json; layers uncompressed, same image ID)</option>
              </>
            ) : (
              <>
                <option value="oci">OCI archive (index.json; keeps multi-arch indexes)</option>
                <option value="docker">docker save (manifest.json; docker load reads it)</option>
              </>
            )}
          </select>
        </div>
        {from === 'registry' && (
          <label className="row">
            <input type="checkbox" checked={referrers} onChange={(e) => setReferrers(e.target.checked)} /> Include referrers (signatures, SBOMs)
          </label>
        )}
        {error && (
          <div className="note error" role="alert">
            {error}
          </div>
        )}
      </form>
    </Dialog>
  );
}

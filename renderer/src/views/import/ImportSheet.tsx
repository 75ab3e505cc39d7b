/**
 * The import sheet: one card per dropped or picked archive. Each file is handed to the backend (its
 * path in Electron; a streamed upload with progress in the browser), previewed (images, tags,
 * platforms, layers, sizes, config), then imported into the embedded registry or the local engine as a
 * job that shows bytes, speed and ETA and can be cancelled.
 */
import { useEffect, useId, useRef, useState } from 'react';
import type { ArchiveImportResult, ArchivePreview } from '../../../../shared/api/archive';
import { asBerthError, berth, transport, type FileSource, type UploadProgress } from '../../api';
import { ProgressBar } from '../../components/Bits';
import { ArchiveInput } from '../../components/ArchiveInput';
import { LayerTable } from '../../components/LayerTable';
import { Dialog } from '../../components/Dialog';
import { formatBytes, formatDuration, formatRate, formatRelative, plural, shortDigest } from '../../../../shared/format';
import { defaultRows, defaultTarget, rowOverrides, splitTags, targetProblem, type ImageRow } from '../../lib/import-defaults';
import { useJobs } from '../../store/jobs';
import { useRegistry } from '../../store/registry';
import { useUi } from '../../store/ui';
import { JobCard } from '../TransfersView';

export function ImportSheet() {
  const { importFiles, closeImport } = useUi();
  const picker = useRef<HTMLInputElement>(null);
  if (!importFiles) return null;
  return (
    <Dialog
      title={`Import ${importFiles.length === 1 ? importFiles[0].name : plural(importFiles.length, 'archive')}`}
      label="Import archives"
      wide
      onClose={closeImport}
      footer={
        <>
          <ArchiveInput inputRef={picker} label="Add archive files" />
          <button type="button" className="btn" onClick={() => picker.current?.click()}>
            Add files…
          </button>
          <span className="spacer" />
          <button type="button" className="btn" onClick={closeImport}>
            Close
          </button>
        </>
      }
    >
      <p className="muted small">
        docker save archives (both the manifest.json and the OCI layouts) and OCI archives. Every digest is verified; nothing becomes visible until the whole image is in.
        {transport.kind === 'http' ? ' The file streams from this browser to berth serve.' : ' Berth reads the file from disk.'}
      </p>
      {importFiles.map((f) => (
        <FileCard key={`${f.name}:${f.size}:${f.lastModified}`} file={f} />
      ))}
    </Dialog>
  );
}

type Stage =
  | { kind: 'sending'; loaded: number; total: number; rate?: number }
  | { kind: 'previewing'; source: FileSource }
  | { kind: 'ready'; source: FileSource; preview: ArchivePreview }
  | { kind: 'importing'; source: FileSource; preview: ArchivePreview; jobId: string }
  | { kind: 'failed'; message: string; preview?: ArchivePreview; source?: FileSource };

function FileCard({ file }: { file: File }) {
  const [stage, setStage] = useState<Stage>({ kind: 'sending', loaded: 0, total: file.size });
  const abort = useRef<AbortController | undefined>(undefined);

  useEffect(() => {
    const controller = new AbortController();
    abort.current = controller;
    let live = true;
    (async () => {
      let source: FileSource;
      const startedAt = Date.now();
      const onProgress = (p: UploadProgress) => {
        if (!live) return;
        const elapsed = (Date.now() - startedAt) / 1000;
        const rate = elapsed > 0.3 ? p.loaded / elapsed : undefined;
        setStage((s) => (s.kind === 'sending' ? { ...s, loaded: p.loaded, total: p.total, rate } : s));
      };
      try {
        source = await transport.sendFile(file, onProgress, controller.signal);
      } catch (err) {
        if (live) setStage({ kind: 'failed', message: asBerthError(err).message });
        return;
      }
      if (!live) return;
      setStage({ kind: 'previewing', source });
      try {
        const preview = await berth['archive.preview']({ source });
        if (live) setStage({ kind: 'ready', source, preview });
      } catch (err) {
        if (live) setStage({ kind: 'failed', message: asBerthError(err).message, source });
      }
    })();
    return () => {
      live = false;
      controller.abort();
    };
  }, [file]);

  return (
    <section className="file-card" aria-label={`Archive ${file.name}`}>
      <h3>
        {file.name} <span className="muted">{formatBytes(file.size)}</span>
        <span className="spacer" />
        {stage.kind === 'sending' && (
          <button type="button" className="btn small danger" onClick={() => abort.current?.abort()}>
            Cancel
          </button>
        )}
      </h3>
      {stage.kind === 'sending' && <SendProgress stage={stage} />}
      {stage.kind === 'previewing' && (
        <p className="muted" role="status">
          Reading the archive…
        </p>
      )}
      {stage.kind === 'failed' && (
        <div className="note error" role="alert">
          {stage.message}
        </div>
      )}
      {(stage.kind === 'ready' || stage.kind === 'importing') && <Preview preview={stage.preview} />}
      {stage.kind === 'ready' && <ImportForm source={stage.source} preview={stage.preview} onStarted={(jobId) => setStage({ ...stage, kind: 'importing', jobId })} />}
      {stage.kind === 'importing' && <ImportProgress jobId={stage.jobId} />}
    </section>
  );
}

function SendProgress({ stage }: { stage: Extract<Stage, { kind: 'sending' }> }) {
  const { rate } = stage;
  const eta = rate ? (stage.total - stage.loaded) / rate : undefined;
  return (
    <div className="stack" style={{ gap: 4 }}>
      <ProgressBar done={stage.loaded} total={stage.total} label="Upload progress" />
      <div className="row small muted">
        <span>
          Uploading {formatBytes(stage.loaded)} of {formatBytes(stage.total)}
        </span>
        <span>{formatRate(rate)}</span>
        {eta !== undefined && <span>{formatDuration(eta)} left</span>}
      </div>
    </div>
  );
}

const formatNames: Record<ArchivePreview['format'], string> = {
  'docker-archive': 'docker save (manifest.json layout)',
  'docker-oci': 'docker save (OCI layout, Docker 25+)',
  'oci-archive': 'OCI archive',
};

function Preview({ preview }: { preview: ArchivePreview }) {
  return (
    <div className="stack" aria-label="Preview">
      <div className="row small">
        <span className="badge info">{formatNames[preview.format]}</span>
        <span className="muted">
          {plural(preview.images.length, 'image')} · {formatBytes(preview.size)} · layers {preview.compressed ? 'compressed' : 'uncompressed'}
        </span>
      </div>
      <table className="grid" aria-label="Images in the archive">
        <thead>
          <tr>
            <th>Tags</th>
            <th>Platform</th>
            <th>Created</th>
            <th className="num">Layers</th>
            <th className="num">Size</th>
            <th>Config</th>
          </tr>
        </thead>
        <tbody>
          {preview.images.flatMap((img, i) =>
            img.platforms.map((p, j) => (
              <tr key={`${i}-${j}`}>
                <td className="wrap">{j === 0 ? img.tags.join(', ') || <span className="muted">untagged</span> : ''}</td>
                <td>
                  <strong>{p.platform}</strong>
                  {p.digest && (
                    <div className="muted small">
                      <code>{shortDigest(p.digest)}</code>
                    </div>
                  )}
                </td>
                <td>{p.created ? formatRelative(Date.parse(p.created)) : '—'}</td>
                <td className="num" title={p.layers.map((l) => `${shortDigest(l.digest)} ${formatBytes(l.size)}`).join('\n')}>
                  {p.layers.length}
                </td>
                <td className="num">{formatBytes(p.size)}</td>
                <td className="wrap small">
                  {p.config ? (
                    <code>
                      {[...p.config.entrypoint, ...p.config.cmd].join(' ') || '(no command)'}
                      {p.config.workingDir ? ` · in ${p.config.workingDir}` : ''}
                      {p.config.env.length ? ` · ${plural(p.config.env.length, 'env var')}` : ''}
                    </code>
                  ) : (
                    '—'
                  )}
                </td>
              </tr>
            )),
          )}
        </tbody>
      </table>
      <details>
        <summary className="small">Layers</summary>
        {preview.images.flatMap((img, i) =>
          img.platforms.map((p, j) => (
            <LayerTable key={`${i}-${j}`} layers={p.layers} label={`Layers of ${img.tags[0] ?? 'image'} ${p.platform}`} />
          )),
        )}
      </details>
    </div>
  );
}

function ImportForm({ source, preview, onStarted }: { source: FileSource; preview: ArchivePreview; onStarted: (jobId: string) => void }) {
  const defaults = defaultTarget(preview);
  const single = preview.images.length === 1;
  const registryRunning = useRegistry((s) => s.status.data?.running);
  const [target, setTarget] = useState<'registry' | 'engine'>('registry');
  const [repository, setRepository] = useState(defaults.repository);
  const [tagsText, setTagsText] = useState(defaults.tags.join(', '));
  const [rows, setRows] = useState<ImageRow[]>(() => defaultRows(preview));
  const [compress, setCompress] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const tags = splitTags(tagsText);
  const perImage = !single && target === 'registry' ? rowOverrides(preview, rows) : undefined;
  const problem = single ? targetProblem(repository.trim(), tags, target === 'registry') : perImage?.problem;
  const legacy = !preview.compressed;
  const id = useId();

  const submit = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const job = await berth['archive.import']({
        source,
        target,
        ...(single && repository.trim() ? { repository: repository.trim(), tags } : {}),
        ...(perImage?.overrides.length ? { overrides: perImage.overrides } : {}),
        ...(target === 'registry' && legacy ? { compress } : {}),
      });
      useJobs.getState().apply(job);
      onStarted(job.id);
    } catch (err) {
      setError(asBerthError(err).message);
      setBusy(false);
    }
  };

  return (
    <form
      className="stack"
      aria-label="Import options"
      onSubmit={(e) => {
        e.preventDefault();
        if (!problem) void submit();
      }}
    >
      <div className="row" role="radiogroup" aria-label="Import into">
        <strong>Import into</strong>
        <label className="row">
          <input type="radio" name="target" checked={target === 'registry'} onChange={() => setTarget('registry')} /> Embedded registry
        </label>
        <label className="row">
          <input type="radio" name="target" checked={target === 'engine'} onChange={() => setTarget('engine')} /> Local engine
        </label>
      </div>
      {target === 'registry' && registryRunning === false && <div className="note warn">The registry is stopped; the import still works and the images are there when it starts.</div>}
      {single ? (
        <div className="row" style={{ alignItems: 'flex-start' }}>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor={`${id}-repo`}>Repository</label>
            <input id={`${id}-repo`} className="input mono" value={repository} onChange={(e) => setRepository(e.target.value)} aria-invalid={problem !== undefined} spellCheck={false} />
          </div>
          <div className="field" style={{ flex: 1 }}>
            <label htmlFor={`${id}-tags`}>Tags</label>
            <input id={`${id}-tags`} className="input mono" value={tagsText} onChange={(e) => setTagsText(e.target.value)} placeholder="latest, 1.0" spellCheck={false} />
          </div>
        </div>
      ) : target === 'registry' ? (
        <table className="grid" aria-label="Repository and tags per image">
          <thead>
            <tr>
              <th>Image</th>
              <th>Repository</th>
              <th>Tags</th>
            </tr>
          </thead>
          <tbody>
            {preview.images.map((img, i) => (
              <tr key={`${i}-${img.digest ?? ''}`}>
                <td className="wrap small">
                  {i + 1}. {img.tags.join(', ') || <span className="muted">untagged {img.digest ? shortDigest(img.digest) : ''}</span>}
                </td>
                {(['repository', 'tagsText'] as const).map((field) => (
                  <td key={field}>
                    <input
                      className="input mono"
                      aria-label={`${field === 'repository' ? 'Repository' : 'Tags'} for image ${i + 1}`}
                      value={rows[i]?.[field] ?? ''}
                      onChange={(e) => setRows((r) => r.map((row, j) => (j === i ? { ...row, [field]: e.target.value } : row)))}
                      placeholder={field === 'tagsText' ? 'latest, 1.0' : undefined}
                      spellCheck={false}
                    />
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      ) : (
        <p className="muted small">The engine keeps the names each image carries in the archive.</p>
      )}
      {problem && (
        <span className="field-error" role="alert">
          {problem}
        </span>
      )}
      {target === 'registry' && legacy && (
        <label className="row">
          <input type="checkbox" checked={compress} onChange={(e) => setCompress(e.target.checked)} />
          Compress layers with gzip
          <span className="muted small">{compress ? '— zlib level 1 (parts that do not compress are stored); smaller in the registry and on the wire; the digests change.' : '— layers are stored as they are in the archive (uncompressed), digests kept.'}</span>
        </label>
      )}
      {error && (
        <div className="note error" role="alert">
          {error}
        </div>
      )}
      <div className="row">
        <button type="submit" className="btn primary" disabled={busy || problem !== undefined}>
          {busy ? 'Starting…' : target === 'registry' ? 'Import into the registry' : 'Load into the engine'}
        </button>
      </div>
    </form>
  );
}

function ImportProgress({ jobId }: { jobId: string }) {
  const job = useJobs((s) => s.jobs[jobId]);
  const { setView, closeImport } = useUi();
  if (!job) return null;
  const result = job.state === 'done' ? (job.result as ArchiveImportResult | undefined) : undefined;
  return (
    <div className="stack" aria-live="polite">
      <JobCard job={job} />
      {result && (
        <div className="note" role="status" aria-label="Import result">
          {result.target === 'registry' ? (
            <>
              Imported into the registry:{' '}
              {result.images.map((i, n) => (
                <span key={`${i.repository}@${i.digest}`}>
                  {n > 0 && ', '}
                  <code>
                    {i.repository}:{i.tags.join(', ') || shortDigest(i.digest)}
                  </code>
                </span>
              ))}
              . Wrote {formatBytes(result.written)}
              {result.skipped > 0 ? `; ${plural(result.skipped, 'blob')} the registry already had were skipped` : ''}.{' '}
              <button
                type="button"
                className="btn link"
                onClick={() => {
                  const repo = result.images[0]?.repository;
                  closeImport();
                  setView('registry');
                  if (repo) useRegistry.getState().selectRepo(repo);
                }}
              >
                Show in Registry
              </button>
            </>
          ) : (
            <>
              Loaded into the engine: <code>{(result.loaded ?? []).join(', ') || 'done'}</code>.{' '}
              <button
                type="button"
                className="btn link"
                onClick={() => {
                  closeImport();
                  setView('images');
                }}
              >
                Show in Images
              </button>
            </>
          )}
        </div>
      )}
    </div>
  );
}

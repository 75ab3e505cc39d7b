/**
 * An image leaving the app as a file (issue #4, export by drag).
 * - Electron: Electron's startDrag needs the file to exist when the drag starts, so the first drag (or a
 *   click on "Prepare for drag") writes the archive into Berth's export cache, with progress here and in
 *   Transfers; once ready, dragging the handle drags the file itself to the desktop or a folder.
 * - A browser (`berth serve`): "Download" prepares the archive and downloads it; the ready link downloads
 *   again on a click, and dragged to the desktop it saves the file there (Chromium's DownloadURL).
 */
import { useEffect, useRef, type DragEvent, type MouseEvent } from 'react';
import type { PrepareExportRequest } from '../../../shared/api/archive';
import { formatBytes, percent } from '../../../shared/format';
import { transport } from '../api';
import { downloadUrlData, exportKey } from '../lib/export-out';
import { useExports } from '../store/exports';
import { useJobs } from '../store/jobs';
import { toastError } from '../store/toasts';
import { ProgressBar } from './Bits';

const stop = (e: MouseEvent) => e.stopPropagation();

/**
 * `compact`: an icon with the same accessible name and tooltip (table rows, where width is scarce);
 * `primary`: the main button of a dialog.
 */
export function ExportOut({ selection, label, primary = false, compact = false }: { selection: PrepareExportRequest; label: string; primary?: boolean; compact?: boolean }) {
  const out = transport.exportOut;
  const key = exportKey(selection);
  const entry = useExports((s) => s.entries[key]);
  const job = useJobs((s) => (entry?.jobId ? s.jobs[entry.jobId] : undefined));
  const link = useRef<HTMLAnchorElement>(null);
  // Set by the Download button: download as soon as the archive is ready (a drag only prepares).
  const downloadWhenReady = useRef(false);
  const ready = entry?.ready;

  useEffect(() => {
    if (ready && downloadWhenReady.current) {
      downloadWhenReady.current = false;
      link.current?.click();
    }
  }, [ready]);

  if (!out) return null;
  const cls = `btn ${primary ? 'primary' : 'small'} export-out${ready ? ' ready' : ''}`;
  const text = (icon: string, words: string) => (compact ? <span aria-hidden="true">{icon}</span> : words);

  const prepare = (download: boolean) => {
    downloadWhenReady.current = download;
    void useExports
      .getState()
      .prepare(selection)
      .then((done) => {
        const error = useExports.getState().entries[key]?.error;
        if (!done && error && error.code !== 'CANCELLED') toastError(error, `Preparing ${label}`);
      });
  };
  // A drag that cannot carry a file yet: it starts the preparation instead.
  const prepareOnDrag = (e: DragEvent) => {
    e.preventDefault();
    prepare(false);
  };

  // An entry is preparing (neither `ready` nor `error`), ready, or failed (`error` and no `ready`: store/exports.ts).
  if (entry && !ready && !entry.error) {
    const pct = job ? percent(job.done, job.total) : undefined;
    return (
      <span className="export-out preparing" role="status" aria-label={`Preparing ${label}`} title={job?.message ?? 'Preparing the archive'}>
        {!compact && <ProgressBar done={job?.done ?? 0} total={job?.total} state={job?.state} label={`Preparing ${label}`} />}
        <span className="muted small">{pct === undefined ? (compact ? '…' : 'Preparing…') : `${Math.round(pct)}%`}</span>
      </span>
    );
  }

  if (out.kind === 'drag') {
    if (!ready) {
      return (
        <button type="button" draggable className={cls} aria-label={`Prepare ${label} for drag`} title="Write the archive, then drag it to the desktop or a folder" onClick={(e) => {
            stop(e);
            prepare(false);
          }} onDragStart={prepareOnDrag}>
          {text('⇱', 'Prepare for drag')}
        </button>
      );
    }
    return (
      <span
        role="button"
        tabIndex={0}
        draggable
        className={`${cls} drag-out`}
        aria-label={`Drag ${label} to export`}
        title={`Drag ${ready.name} (${formatBytes(ready.size)}) to the desktop or a folder`}
        onClick={stop}
        onDragStart={(e) => {
          e.preventDefault(); // the main process drags the file itself (webContents.startDrag)
          const fresh = useExports.getState().fresh(selection);
          if (!fresh) return prepare(false);
          void out.startDrag(fresh.id).then((env) => {
            if (env.ok) return useExports.getState().used(selection);
            useExports.getState().forget(selection);
            toastError(env.error, `Dragging ${label}`);
          });
        }}
      >
        {text('⠿', '⠿ Drag to export')}
      </span>
    );
  }

  if (!ready) {
    return (
      <button type="button" draggable className={cls} aria-label={`Download ${label}`} title="Write the archive, then download it" onClick={(e) => {
          stop(e);
          prepare(true);
        }} onDragStart={prepareOnDrag}>
        {text('⤓', 'Download')}
      </button>
    );
  }
  const url = out.url(ready.id);
  return (
    <a
      ref={link}
      className={cls}
      href={url}
      download={ready.name}
      aria-label={`Download ${label}`}
      title={`${ready.name}, ${formatBytes(ready.size)}: click to download, or drag to the desktop`}
      onClick={(e) => {
        stop(e);
        // Kept an hour after its last use: past that, prepare it again rather than offer a dead link.
        if (useExports.getState().fresh(selection)) useExports.getState().used(selection);
        else {
          e.preventDefault();
          useExports.getState().forget(selection);
          prepare(true);
        }
      }}
      onDragStart={(e) => {
        e.dataTransfer.setData('DownloadURL', downloadUrlData(ready.name, url));
        e.dataTransfer.effectAllowed = 'copy';
        useExports.getState().used(selection);
      }}
    >
      {text('⤓', `Download ${ready.name} (${formatBytes(ready.size)})`)}
    </a>
  );
}

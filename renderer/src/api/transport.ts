/** What the client needs from a transport; the two implementations are IPC (Electron) and HTTP (`berth serve`). */
import type { Envelope } from '../../../shared/contract';
import type { MethodName } from '../../../shared/api';
import type { BerthEvent } from '../../../shared/events';

export interface UploadProgress {
  loaded: number;
  total: number;
}

/** How a picked or dropped file reaches the backend. */
export type FileSource = { path: string } | { uploadId: string };

/**
 * How a prepared export (archive.prepareExport) leaves the app as a file. Electron: a native drag of the
 * file itself, started from dragstart. A browser: the bridge's download URL, for a link, a Download button
 * and a DownloadURL drag to the desktop.
 */
export type ExportOut = { kind: 'drag'; startDrag(exportId: string): Promise<Envelope> } | { kind: 'download'; url(exportId: string): string };

export interface Transport {
  kind: 'ipc' | 'http';
  call(method: MethodName, input: unknown): Promise<Envelope>;
  /** Events from the backend; `onOpen` fires on every (re)connection so views can re-read what they missed. */
  subscribe(listener: (event: BerthEvent) => void, onOpen?: () => void, onLost?: () => void): () => void;
  /**
   * Make a File readable by the backend. Electron: its path (no bytes through IPC). HTTP: stream it with
   * PUT /api/uploads and return the upload id.
   */
  sendFile(file: File, onProgress: (p: UploadProgress) => void, signal: AbortSignal): Promise<FileSource>;
  /** Absent where files cannot leave the app (e.g. a test transport). */
  exportOut?: ExportOut;
}

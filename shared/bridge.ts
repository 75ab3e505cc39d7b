/**
 * How the contract travels. Both transports carry the same Envelope; only the wire differs.
 *
 * Electron IPC: the preload exposes `window.berth` (PreloadBridge). One channel carries every call; the
 * main process checks the method against the contract and the sender against the app's own window.
 *
 * HTTP bridge (`berth serve`, and the control socket the CLI uses to hand work to a running instance):
 *   POST {apiPrefix}/call/<method>   body: JSON input          → 200 + Envelope (401 + Envelope without the token)
 *   GET  {apiPrefix}/events          server-sent events, each `data:` line one BerthEvent (JSON)
 *   PUT  {apiPrefix}/uploads?name=F  body: the file's bytes     → Envelope<{ uploadId, size }> (archive import from a browser)
 *   GET  {apiPrefix}/exports/<id>    a prepared export's archive (download, or a DownloadURL drag out of the page)
 * Every request carries the per-run token: `Authorization: Bearer <token>`, or `?token=` where a header
 * cannot be set (EventSource) — except an export download, whose random id is its own credential (its URL
 * ends up in the browser's download history). The URL `berth serve` prints carries the token in the fragment (#token=…),
 * which the browser never sends to the server; the UI keeps it in sessionStorage.
 */
import type { Envelope } from './contract';
import type { MethodName } from './api';
import type { BerthEvent } from './events';

export const ipcChannels = {
  call: 'berth:call',
  event: 'berth:event',
  /** Drag a prepared export out of the window: main checks the id and calls webContents.startDrag. */
  startDrag: 'berth:start-drag',
} as const;

export const apiPrefix = '/api';
export const tokenParam = 'token';

export interface PreloadBridge {
  call(method: MethodName, input: unknown): Promise<Envelope>;
  subscribe(listener: (event: BerthEvent) => void): () => void;
  /** The filesystem path of a dropped or picked File (Electron only), so the backend reads it directly. */
  pathForFile(file: File): string;
  /**
   * Drag a prepared export (archive.prepareExport) out of the window as a file; called from dragstart. The
   * envelope says when the id was refused (e.g. the export expired: prepare it again).
   */
  startDrag(exportId: string): Promise<Envelope>;
}
